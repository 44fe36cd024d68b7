"""The daily reminder round: the sweep opens the day's round, the dispatcher derives it.

`open_round` is the daily job: it works out the day (the calendar, the quiet hours) and
opens the round of the day's stages (storage/sweep_rounds.py): one row, whatever the
county's size. `RoundFeeder.feed` is what the dispatcher calls when its queue of reminders
runs low: the next batch of cadres' reminders, found, claimed and enqueued in one
transaction exactly as the sweep of that day would write them (storage.sweep_sql), the
most overdue first. Liveness, leave, accounts and duties are read then: a pairing ended, a
cadre gone on leave, an account blocked, or a duty done between the sweep and the batch is
not reminded; a cadre who bound an account meanwhile is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from core.i18n import DEFAULT_LANG, normalize_lang
from core.policy import Policy, quiet_until
from reminders.duties import DayPlan, day_plan
from reminders.sweep import MARK_KEEP_DAYS, REMINDER_KIND
from storage import sweep_rounds
from storage.db import Database
from storage.dialect import hold_write_lock
from storage.duties import CadreRange, cadre_chunk, prune_marks
from storage.sweep_marks import LOCK, MARKS_TABLE
from storage.sweep_rounds import Round
from storage.sweep_sql import sweep_chunk_in_db

log = logging.getLogger("bangfu.rounds")

ROUND_CADRES = 2_000  # cadres a batch reads; its transaction holds the claims' lock
ROUND_KEEP_DAYS = 30  # finished rounds kept this long
PLAN_FRESH = timedelta(minutes=1)  # a day's plan (calendar, events) reused this long
EVERY_CADRE: CadreRange = (0, 2**62)  # a pass of events reads their households' cadres only


@dataclass(frozen=True, slots=True)
class Opened:
    day: date  # the local day whose stages are reminded
    round_id: int | None  # None: nothing can be due that day
    not_before: datetime | None  # set when the sweep ran in quiet hours

    def detail(self) -> dict[str, object]:
        """For the job-run record and logs."""
        return {
            "day": self.day.isoformat(),
            "round": self.round_id,
            "deferred_to": self.not_before.isoformat() if self.not_before else None,
        }


async def open_round(
    db: Database, at: datetime, policy: Policy, *, lang: str = "zh", tz: tzinfo | None = None
) -> Opened:
    """Open the round of the local day of `at` (its messages derived as they are sent)."""
    if at.tzinfo is None:
        raise ValueError("open_round needs an aware datetime")
    local = at.astimezone(tz or at.tzinfo)
    today = local.date()
    not_before = quiet_until(local, policy)
    async with db.sessions() as session:
        plan = await day_plan(session, today, policy)
    round_id = None
    async with db.transaction() as session:
        if not plan.idle:
            round_id = await sweep_rounds.open_round(
                session, stage_on=today, lang=normalize_lang(lang), at=at, not_before=not_before
            )
        await prune_marks(session, before=today - timedelta(days=MARK_KEEP_DAYS))
        await sweep_rounds.prune(session, before=today - timedelta(days=ROUND_KEEP_DAYS))
    return Opened(today, round_id, not_before)


@dataclass(slots=True)
class Fed:
    """What `feed` derived."""

    enqueued: int = 0  # outbox rows inserted
    cadres: int = 0
    duties: int = 0
    unreachable: int = 0  # cadres owing something, with no usable account
    batches: int = 0


@dataclass(frozen=True, slots=True)
class _Step:
    pass_due: date
    cadres: CadreRange
    households: tuple[int, ...] | None  # a pass of events: only their households' cadres


def _due_days(plan: DayPlan) -> tuple[list[date], set[date]]:
    """The round's passes (every due day of the day's duties, in order) and those a check
    of every live pairing is due on (the others: events only)."""
    checks = {c.due_on for c in (*plan.before, *plan.after)}
    events = {e.visit_due_on for found in plan.events.values() for e in found}
    return sorted(checks | events), checks


async def _step(session: object, plan: DayPlan, r: Round) -> _Step | None:
    """The round's next batch, or None when it is done."""
    days, full = _due_days(plan)
    current = days[0] if r.pass_due is None and days else r.pass_due
    after = r.after_cadre
    while current is not None:
        if current in full:
            cadres = await cadre_chunk(session, after=after, size=ROUND_CADRES)  # type: ignore[arg-type]
            if cadres is not None:
                return _Step(current, cadres, None)
        elif after < EVERY_CADRE[1]:
            households = tuple(
                sorted(
                    h
                    for h, found in plan.events.items()
                    if any(e.visit_due_on <= current for e in found)
                )
            )
            return _Step(current, EVERY_CADRE, households)
        later = [d for d in days if d > current]
        current, after = (later[0] if later else None), 0
    return None


class RoundFeeder:
    """Derives the open rounds' reminders for the dispatcher, a batch at a time."""

    def __init__(self, db: Database, policy: Policy) -> None:
        self.db = db
        self.policy = policy
        self._plan: tuple[date, datetime, DayPlan] | None = None

    async def _day_plan(self, session: object, day: date, now: datetime) -> DayPlan:
        """The day's plan, read again after PLAN_FRESH (an event reported meanwhile joins
        the next batches; the statement itself checks each event's deletion)."""
        kept = self._plan
        if kept is not None and kept[0] == day and timedelta(0) <= now - kept[1] < PLAN_FRESH:
            return kept[2]
        plan = await day_plan(session, day, self.policy)  # type: ignore[arg-type]
        self._plan = (day, now, plan)
        return plan

    async def feed(self, *, now: datetime, want: int) -> Fed:
        """Derive batches of the oldest open round until `want` rows were enqueued or no
        round is left. Each batch is one transaction under the claims' lock."""
        fed = Fed()
        async with self.db.sessions() as session:  # most of the time there is none
            if not await sweep_rounds.any_open(session):
                return fed
        while fed.enqueued < want:
            async with self.db.transaction() as session:
                await hold_write_lock(session, LOCK, MARKS_TABLE)
                r = await sweep_rounds.next_open(session)
                if r is None:
                    break
                plan = await self._day_plan(session, r.stage_on, now)
                step = await _step(session, plan, r)
                if step is None:
                    await sweep_rounds.finish(session, r.id, now=now)
                    log.info("reminder round %s of %s: done", r.id, r.stage_on)
                    continue
                counts = await sweep_chunk_in_db(
                    session,
                    today=r.stage_on,
                    cadres=step.cadres,
                    checks=(*plan.before, *plan.after),
                    event_days=plan.event_days,
                    event_households=plan.events.keys(),
                    now=now,
                    not_before=r.not_before,
                    lang=(r.lang, DEFAULT_LANG),
                    kind=REMINDER_KIND,
                    upto=step.pass_due,
                    cadres_of=step.households,
                )
                await sweep_rounds.advance(
                    session, r.id, pass_due=step.pass_due, after_cadre=step.cadres[1]
                )
            fed.enqueued += counts.enqueued
            fed.cadres += counts.cadres
            fed.duties += counts.duties
            fed.unreachable += len(counts.unreachable)
            fed.batches += 1
        if fed.batches:
            log.info(
                "reminder rounds: %d batches, %d cadres, %d duties, %d rows, %d unreachable",
                fed.batches,
                fed.cadres,
                fed.duties,
                fed.enqueued,
                fed.unreachable,
            )
        return fed
