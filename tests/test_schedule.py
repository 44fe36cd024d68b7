"""Scheduling: cron times in Asia/Shanghai, one run per scheduled time, catch-up at start."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.config import ScheduleSettings
from bot.schedule import (
    DIGEST,
    DISPATCH,
    REVIEW,
    SWEEP,
    JobRunner,
    build_triggers,
    last_fire_time,
    scheduled_job,
    start_scheduling,
)
from core.clock import FixedClock
from storage import jobs as job_store
from storage.db import Database
from storage.models import JobRun

SH = ZoneInfo("Asia/Shanghai")
CFG = ScheduleSettings()  # sweep 09:00, digest Monday 08:30, review the 1st 08:30


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


class Recorder:
    """Job callables that remember each `at` they ran for."""

    def __init__(self, pause: float = 0.0, fail: bool = False) -> None:
        self.runs: list[tuple[str, datetime]] = []
        self.pause, self.fail = pause, fail

    def job(self, name: str):  # type: ignore[no-untyped-def]
        async def run(at: datetime) -> dict[str, int]:
            self.runs.append((name, at))
            await asyncio.sleep(self.pause)  # long enough for a rival to try meanwhile
            if self.fail:
                raise RuntimeError("boom")
            return {"queued": 3}

        return run

    def jobs(self) -> dict:  # type: ignore[type-arg]
        return {n: self.job(n) for n in (SWEEP, DIGEST, REVIEW)}


def runner(db, rec: Recorder, clock: FixedClock, worker: str = "p1") -> JobRunner:  # type: ignore[no-untyped-def]
    return JobRunner(db, rec.jobs(), build_triggers(CFG, SH), clock=clock, worker=worker)


def test_cron_fire_times_in_shanghai():
    t = build_triggers(CFG, SH)
    now = sh(2026, 11, 23, 9, 30)  # a Monday, after the sweep
    assert t[SWEEP].get_next_fire_time(None, now) == sh(2026, 11, 24, 9, 0)
    # 09:00 in Shanghai is 01:00 UTC
    assert t[SWEEP].get_next_fire_time(None, now).utcoffset() == timedelta(hours=8)
    assert t[DIGEST].get_next_fire_time(None, now) == sh(2026, 11, 30, 8, 30)  # next Monday
    assert t[REVIEW].get_next_fire_time(None, now) == sh(2026, 12, 1, 8, 30)
    assert last_fire_time(t[SWEEP], now) == sh(2026, 11, 23, 9, 0)
    assert last_fire_time(t[SWEEP], sh(2026, 11, 23, 8, 59)) == sh(2026, 11, 22, 9, 0)
    assert last_fire_time(t[DIGEST], now) == sh(2026, 11, 23, 8, 30)
    assert last_fire_time(t[REVIEW], now) == sh(2026, 11, 1, 8, 30)
    other = build_triggers(ScheduleSettings(digest_day="fri", digest_time="17:05"), SH)
    assert other[DIGEST].get_next_fire_time(None, now) == sh(2026, 11, 27, 17, 5)


async def test_same_run_twice_runs_once(db):
    rec = Recorder()
    clock = FixedClock(sh(2026, 11, 24, 9, 0, 5))
    r = runner(db, rec, clock)
    assert await r.fire(SWEEP)
    clock.advance(timedelta(minutes=10))
    assert not await r.fire(SWEEP)  # same scheduled time: same run key
    assert rec.runs == [(SWEEP, sh(2026, 11, 24, 9, 0))]
    async with db.transaction() as s:
        run = await job_store.get_run(s, SWEEP, "2026-11-24")
    assert run is not None and run.finished_at is not None and run.detail == {"queued": 3}
    clock.set(sh(2026, 11, 25, 9, 0))
    assert await r.fire(SWEEP)  # the next day is a new run
    assert len(rec.runs) == 2


async def test_two_processes_run_it_once(db):
    rec = Recorder(pause=0.2)
    clock = FixedClock(sh(2026, 11, 23, 8, 30, 1))
    other_db = Database(db.url, schema=db.schema)  # each "process" has its own engine
    try:
        a = runner(db, rec, clock, worker="p1")
        b = runner(other_db, rec, clock, worker="p2")
        results = await asyncio.gather(a.fire(DIGEST), b.fire(DIGEST), a.fire(DIGEST))
    finally:
        await other_db.dispose()
    assert sorted(results) == [False, False, True]
    assert rec.runs == [(DIGEST, sh(2026, 11, 23, 8, 30))]


async def test_advisory_lock_held_elsewhere_skips_the_run(db):
    rec = Recorder()
    clock = FixedClock(sh(2026, 11, 24, 9, 0, 5))
    async with db.transaction() as holder:
        assert await job_store.lock_job(holder, SWEEP)
        ran = await runner(db, rec, clock).fire(SWEEP)
    if db.dialect == "postgresql":
        assert not ran and rec.runs == []  # another process is mid-sweep
    else:
        assert ran  # SQLite: the job_runs claim alone decides


async def test_catch_up_runs_each_missed_run_once(db):
    rec = Recorder()
    # The process was down from Sunday evening to Tuesday 10:00: Monday's digest and
    # Tuesday's sweep were missed; the review of the 1st ran back then.
    async with db.transaction() as s:
        assert await job_store.try_claim(
            s,
            REVIEW,
            "2026-11-01",
            worker="old",
            now=sh(2026, 11, 1, 8, 30),
            stale_after=timedelta(hours=6),
        )
        await job_store.finish(s, REVIEW, "2026-11-01", worker="old", now=sh(2026, 11, 1, 8, 31))
    clock = FixedClock(sh(2026, 11, 24, 10, 0))
    r = runner(db, rec, clock)
    assert sorted(await r.catch_up()) == [DIGEST, SWEEP]
    assert sorted(rec.runs) == [(DIGEST, sh(2026, 11, 23, 8, 30)), (SWEEP, sh(2026, 11, 24, 9, 0))]
    assert await runner(db, rec, clock, worker="p2").catch_up() == []  # a restart: nothing
    assert len(rec.runs) == 2


async def test_failed_run_is_released_and_caught_up_later(db):
    clock = FixedClock(sh(2026, 11, 24, 9, 0, 1))
    assert not await runner(db, Recorder(fail=True), clock).fire(SWEEP)
    async with db.transaction() as s:
        assert await s.scalar(select(JobRun)) is None
    rec = Recorder()
    clock.advance(timedelta(hours=1))
    assert SWEEP in await runner(db, rec, clock).catch_up()
    assert (SWEEP, sh(2026, 11, 24, 9, 0)) in rec.runs


async def test_a_run_whose_process_died_is_taken_over_when_stale(db):
    clock = FixedClock(sh(2026, 11, 24, 9, 0, 1))
    async with db.transaction() as s:  # claimed, never finished: the process died mid-run
        await job_store.try_claim(
            s, SWEEP, "2026-11-24", worker="dead", now=clock.now(), stale_after=timedelta(hours=6)
        )
    rec = Recorder()
    clock.advance(timedelta(minutes=30))
    assert not await runner(db, rec, clock).fire(SWEEP)  # it may still be running
    clock.advance(timedelta(minutes=31))
    assert await runner(db, rec, clock).fire(SWEEP)
    assert rec.runs == [(SWEEP, sh(2026, 11, 24, 9, 0))]


async def test_scheduler_registers_jobs_and_catches_up(db):
    rec = Recorder()
    clock = FixedClock(sh(2026, 11, 24, 10, 0))
    r = runner(db, rec, clock)
    started = await start_scheduling(r, CFG, SH)
    try:
        assert started.catching_up is not None
        assert sorted(await started.catching_up) == [DIGEST, REVIEW, SWEEP]
        jobs = {j.id: j for j in started.scheduler.get_jobs()}
        assert set(jobs) == {SWEEP, DIGEST, REVIEW}  # no dispatcher given: no tick
        assert jobs[SWEEP].args == (r.id, SWEEP)  # plain names, nothing to pickle
        assert str(jobs[DIGEST].trigger.timezone) == "Asia/Shanghai"
        await scheduled_job(r.id, SWEEP)  # what APScheduler calls at 09:00: already done
        assert len(rec.runs) == 3
    finally:
        await started.stop()
    assert DISPATCH not in jobs


async def test_a_run_cancelled_by_shutdown_is_caught_up_at_next_start(db):
    clock = FixedClock(sh(2026, 11, 24, 9, 0, 1))
    slow = Recorder(pause=30)
    task = asyncio.create_task(runner(db, slow, clock).fire(SWEEP))
    while not slow.runs:  # noqa: ASYNC110 — wait until the job body has started
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rec = Recorder()
    assert SWEEP in await runner(db, rec, clock, worker="p2").catch_up()
    assert (SWEEP, sh(2026, 11, 24, 9, 0)) in rec.runs


async def test_one_process_dispatches_at_a_time(db):
    """While one process holds the dispatch round, another's round sends nothing."""

    class CountingDispatcher:
        rounds = 0

        async def run_once(self) -> None:
            CountingDispatcher.rounds += 1

    clock = FixedClock(sh(2026, 11, 23, 9, 0))
    runner = JobRunner(db, {}, {}, clock=clock, dispatcher=CountingDispatcher())  # type: ignore[arg-type]
    async with db.transaction() as other_process:
        held = await job_store.lock_job(other_process, DISPATCH)
        assert held
        ran = await runner.dispatch_round()
    assert ran is (db.dialect == "sqlite")
    assert CountingDispatcher.rounds == (
        1 if db.dialect == "sqlite" else 0
    )  # SQLite: one writer anyway, no leader needed
    assert await runner.dispatch_round() is True


async def test_two_deployments_on_one_server_do_not_share_job_locks(db):
    """Advisory locks are server-wide: a second deployment (another schema) must not wait."""
    if db.dialect != "postgresql":
        pytest.skip("advisory locks exist on PostgreSQL only")
    other_schema = f"{db.schema}_other"
    admin = Database(db.url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{other_schema}"'))
    other_deployment = Database(db.url, schema=other_schema)
    same_deployment = Database(db.url, schema=db.schema)  # another process of this one
    try:
        async with db.transaction() as holder:
            assert await job_store.lock_job(holder, SWEEP)
            async with other_deployment.transaction() as s:
                assert await job_store.lock_job(s, SWEEP)  # its own 09:00 sweep runs
            async with same_deployment.transaction() as s:
                assert not await job_store.lock_job(s, SWEEP)  # this one's rival waits
    finally:
        await other_deployment.dispose()
        await same_deployment.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{other_schema}" CASCADE'))
        await admin.dispose()
