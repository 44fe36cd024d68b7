"""APScheduler 3 set-up: the daily sweep, weekly digest, monthly review and the dispatcher.

Cron triggers run in the configured time zone. Each run is claimed in `job_runs` under its
run key (the scheduled date, in that zone), and on PostgreSQL under an advisory lock too, so
a rerun or a second process does not repeat it. At start, the latest scheduled time of each
job that nobody claimed (the process was down) is run: the catch-up.

The job bodies are not written here: `jobs` maps a job name to an async callable taking the
scheduled time `at` (aware). What it returns, if a dict, is stored as the run's detail.
APScheduler only ever sees the module-level functions below with a runner id and a job name.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from typing import Any, cast

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import metrics
from bot.channels.base import SendError
from bot.config import ScheduleSettings
from bot.dispatch import Dispatcher
from bot.host import Host
from core.clock import Clock
from core.types import Channel, Reply
from storage import jobs as job_store
from storage import outbox
from storage.db import Database
from storage.jobs import DIGEST, DISPATCH, REVIEW, SWEEP

log = logging.getLogger("bangfu.schedule")

JobFn = Callable[[datetime], Awaitable[Any]]
STOP_TIMEOUT = 10.0  # seconds a cancelled job may take to unwind at shutdown
HOUSEKEEPING_SECONDS = 60  # idle drafts are told within a minute of expiring
LOOKBACK = timedelta(days=40)  # longer than the longest period (a month)

_RUNNERS: dict[str, JobRunner] = {}


def _hm(value: str) -> tuple[int, int]:
    h, m = value.split(":")
    return int(h), int(m)


def build_triggers(cfg: ScheduleSettings, tz: tzinfo) -> dict[str, CronTrigger]:
    sh, sm = _hm(cfg.sweep_time)
    dh, dm = _hm(cfg.digest_time)
    rh, rm = _hm(cfg.review_time)
    return {
        SWEEP: CronTrigger(hour=sh, minute=sm, timezone=tz),
        DIGEST: CronTrigger(day_of_week=cfg.digest_day, hour=dh, minute=dm, timezone=tz),
        REVIEW: CronTrigger(day=cfg.review_day, hour=rh, minute=rm, timezone=tz),
    }


def last_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The most recent time `trigger` fires at or before `now` (None within LOOKBACK)."""
    last: datetime | None = None
    probe = now - LOOKBACK
    while True:
        fire = trigger.get_next_fire_time(last, probe)
        if fire is None or fire > now:
            return last
        last = fire
        probe = fire + timedelta(microseconds=1)


def run_key(at: datetime, tz: tzinfo) -> str:
    """A run's key: its scheduled date in the configured zone (each job fires once a day)."""
    return at.astimezone(tz).date().isoformat()


class JobRunner:
    """Runs named jobs at most once per scheduled time across every process."""

    def __init__(
        self,
        db: Database,
        jobs: Mapping[str, JobFn],
        triggers: Mapping[str, CronTrigger],
        *,
        clock: Clock,
        dispatcher: Dispatcher | None = None,
        housekeeping: JobFn | None = None,
        worker: str | None = None,
        stale_after: timedelta = timedelta(hours=1),
    ) -> None:
        self.db = db
        self.jobs = dict(jobs)
        self.triggers = {name: t for name, t in triggers.items() if name in self.jobs}
        self.clock = clock
        self.dispatcher = dispatcher
        self.housekeeping = housekeeping  # frequent, idempotent chores (idle drafts)
        self.running: set[asyncio.Task[Any]] = set()
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.stale_after = stale_after
        self.id = secrets.token_hex(6)
        self.dispatching: asyncio.Task[Any] | None = None  # the dispatcher round running

    async def fire(self, name: str) -> bool:
        """Run `name` for its latest scheduled time unless someone already did."""
        at = last_fire_time(self.triggers[name], self.clock.now())
        return at is not None and await self.run(name, at)

    async def catch_up(self) -> list[str]:
        """Run every job whose latest scheduled time went unclaimed; the names that ran."""
        return [name for name in self.triggers if await self.fire(name)]

    async def run(self, name: str, at: datetime) -> bool:
        """Claim (name, run key of `at`) and run the job; False when another has it."""
        key = run_key(at, self.clock.tz)
        # PostgreSQL: the advisory lock lives as long as this outer transaction, the whole
        # run; on SQLite nothing is executed in it, so it holds no lock there.
        async with self.db.transaction() as lock:
            if not await job_store.lock_job(lock, name):
                log.info("job %s %s: running in another process", name, key)
                return False
            async with self.db.transaction() as s:
                claimed = await job_store.try_claim(
                    s,
                    name,
                    key,
                    worker=self.worker,
                    now=self.clock.now(),
                    stale_after=self.stale_after,
                )
            if not claimed:
                log.info("job %s %s: already claimed", name, key)
                return False
            return await self._execute(name, key, at)

    async def _execute(self, name: str, key: str, at: datetime) -> bool:
        log.info("job %s %s: start (scheduled %s)", name, key, at.isoformat())
        try:
            with metrics.timed_job(name):
                result = await self.jobs[name](at)
        except asyncio.CancelledError:  # shut down mid-run: the next start catches it up
            log.warning("job %s %s cancelled; released for a later catch-up", name, key)
            await self._release(name, key)
            raise
        except Exception:
            log.exception("job %s %s failed; released for a later catch-up", name, key)
            await self._release(name, key)
            return False
        detail = result if isinstance(result, dict) else {}
        async with self.db.transaction() as s:
            await job_store.finish(
                s, name, key, worker=self.worker, now=self.clock.now(), detail=detail
            )
        log.info("job %s %s: done", name, key)
        return True

    @contextmanager
    def tracked(self) -> Iterator[None]:
        """Count the current task as running, so stopping can cancel and await it."""
        task = asyncio.current_task()
        if task is not None:
            self.running.add(task)
        try:
            yield
        finally:
            if task is not None:
                self.running.discard(task)

    async def dispatch_round(self) -> bool:
        """One dispatcher round, by one process at a time across the deployment.

        The rate limits are counted in memory, so two processes sending at once would each
        spend the platform's whole budget; the advisory lock (PostgreSQL) makes the process
        holding it the only sender for the round, and any other takes over when it stops.
        """
        assert self.dispatcher is not None
        self.dispatching = asyncio.current_task()
        async with self.db.transaction() as lock:
            if not await job_store.lock_job(lock, DISPATCH):
                return False
            await self.dispatcher.run_once()
        return True

    async def _release(self, name: str, key: str) -> None:
        async with self.db.transaction() as s:
            await job_store.release(s, name, key, worker=self.worker)


# -- what APScheduler calls: module-level, arguments are plain names ----------------------
async def scheduled_job(runner_id: str, name: str) -> None:
    runner = _RUNNERS.get(runner_id)
    if runner is not None:
        with runner.tracked():
            await runner.fire(name)


async def dispatch_tick(runner_id: str) -> None:
    runner = _RUNNERS.get(runner_id)
    if runner is not None and runner.dispatcher is not None:
        with runner.tracked():
            try:
                await runner.dispatch_round()
            except asyncio.CancelledError:  # stopping: the round handed its rows back
                log.info("dispatch round stopped")
            except Exception:  # the next tick tries again
                log.exception("dispatch round failed")


async def housekeeping_tick(runner_id: str) -> None:
    runner = _RUNNERS.get(runner_id)
    if runner is not None and runner.housekeeping is not None:
        with runner.tracked():
            try:
                await runner.housekeeping(runner.clock.now())
            except Exception:  # the next tick tries again
                log.exception("housekeeping round failed")


class Scheduling:
    """A started scheduler with its runner; `stop()` shuts both down."""

    def __init__(self, scheduler: AsyncIOScheduler, runner: JobRunner) -> None:
        self.scheduler = scheduler
        self.runner = runner
        self.catching_up: asyncio.Task[list[str]] | None = None

    async def stop(self) -> None:
        """Stop firing, then cancel what is running and wait for it to unwind.

        APScheduler's shutdown does not wait for coroutine jobs; a round left running would
        outlive the database it holds a transaction on.
        """
        if self.runner.dispatcher is not None:
            # First, while APScheduler still lets it run (its shutdown cancels the job), the
            # round ends by itself: requests in flight finish, claimed rows go back at once.
            self.runner.dispatcher.request_stop()
            round_ = self.runner.dispatching
            if round_ is not None and not round_.done():
                await asyncio.wait([round_], timeout=STOP_TIMEOUT)
        self.scheduler.shutdown(wait=False)
        if self.catching_up is not None and not self.catching_up.done():
            self.catching_up.cancel()
        running = [t for t in self.runner.running if not t.done()]
        if self.catching_up is not None:
            running.append(self.catching_up)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=STOP_TIMEOUT)
        _RUNNERS.pop(self.runner.id, None)


def build_scheduler(runner: JobRunner, cfg: ScheduleSettings, tz: tzinfo) -> AsyncIOScheduler:
    """An AsyncIOScheduler with one cron job per runner job, and the dispatcher's tick."""
    scheduler = AsyncIOScheduler(timezone=tz)
    for name, trigger in runner.triggers.items():
        scheduler.add_job(
            scheduled_job,
            trigger,
            args=[runner.id, name],
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,  # later than that, the next start's catch-up runs it
        )
    if runner.dispatcher is not None:
        scheduler.add_job(
            dispatch_tick,
            IntervalTrigger(seconds=cfg.dispatch_interval_seconds, timezone=tz),
            args=[runner.id],
            id=DISPATCH,
            max_instances=1,
            coalesce=True,
        )
    if runner.housekeeping is not None:
        scheduler.add_job(
            housekeeping_tick,
            IntervalTrigger(seconds=HOUSEKEEPING_SECONDS, timezone=tz),
            args=[runner.id],
            id="housekeeping",
            max_instances=1,
            coalesce=True,
        )
    return scheduler


async def start_scheduling(runner: JobRunner, cfg: ScheduleSettings, tz: tzinfo) -> Scheduling:
    """Start the scheduler and catch up missed runs in the background."""
    _RUNNERS[runner.id] = runner
    scheduler = build_scheduler(runner, cfg, tz)
    scheduler.start()
    started = Scheduling(scheduler, runner)
    started.catching_up = asyncio.create_task(runner.catch_up())
    return started


class JobSender:
    """Runs the jobs scheduled with `--at … --schedule` when their outbox row falls due.

    The dispatcher hands it rows of the pseudo-channel "bangfu" like messages: chat_id is
    the job's name, the text its moment. A failure is retried like a failed send.
    """

    channel = cast(Channel, outbox.JOB_CHANNEL)  # not a platform: a name for the outbox

    def __init__(self, jobs: Mapping[str, JobFn]) -> None:
        self.jobs = jobs

    async def send(self, chat_id: str, reply: Reply) -> None:
        job = self.jobs.get(chat_id)
        if job is None:
            raise SendError(f"no job {chat_id!r} in this process", permanent=True)
        at = datetime.fromisoformat(reply.text)
        log.info("scheduled job %s for %s: start", chat_id, at.isoformat())
        with metrics.timed_job(chat_id):
            await job(at)
        log.info("scheduled job %s for %s: done", chat_id, at.isoformat())


class SchedulingService:
    """The dispatcher and the cron jobs as a part of `bangfu run` (bot.channels.base.Part).

    The dispatcher sends through every channel's senders (`host.senders`), ticking every
    schedule.dispatch_interval_seconds; the cron jobs run when schedule.enabled.
    """

    def __init__(
        self,
        host: Host,
        jobs: Mapping[str, JobFn],
        housekeeping: JobFn | None = None,
    ) -> None:
        self.host = host
        self.jobs = jobs
        self.housekeeping = housekeeping
        self.started: Scheduling | None = None

    def routes(self) -> list[Any]:
        return []

    async def start(self) -> None:
        host = self.host
        cfg, tz, clock = host.settings.schedule, host.settings.tz, host.ctx.clock
        dispatcher = Dispatcher(
            host.db,
            [*host.senders.values(), JobSender(self.jobs)],
            settings=host.settings.dispatch,
            clock=clock,
            policy=host.settings.policy,
            limiter=host.limiter,  # shared with answers, which go first
            worker=host.worker,  # the answers' send history is already in that limiter
        )
        runner = JobRunner(
            host.db,
            self.jobs if cfg.enabled else {},
            build_triggers(cfg, tz),
            clock=clock,
            dispatcher=dispatcher,
            housekeeping=self.housekeeping,
        )
        self.started = await start_scheduling(runner, cfg, tz)

    async def stop(self) -> None:
        if self.started is not None:
            await self.started.stop()
            self.started = None


def scheduling_service(
    jobs: Mapping[str, JobFn] | Callable[[Host], Mapping[str, JobFn]],
    housekeeping: Callable[[Host], JobFn] | None = None,
) -> Callable[[Host], SchedulingService]:
    """A service plug for `bot.run.start(services=[...])`. `jobs` may be a function of the
    Host (e.g. `lambda host: {SWEEP: lambda at: run_sweep(host.db, at, policy)}`)."""

    def plug(host: Host) -> SchedulingService:
        table = jobs(host) if callable(jobs) else jobs
        return SchedulingService(
            host, table, housekeeping(host) if housekeeping is not None else None
        )

    return plug
