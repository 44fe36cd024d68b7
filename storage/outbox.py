"""The outbox: reminders and digests wait here until the dispatcher sends them.

A row's life: pending → sending (claimed by one worker, with a lease) → sent | pending again
(retry later) | failed (permanent error) | dead (gave up after too many attempts). A row left
in "sending" past its lease — its worker crashed — is claimed again, so nothing is lost.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, delete, func, or_, select, update

from storage.core_db import Executor
from storage.dialect import insert_many_ignore, skip_locked
from storage.tables import chat_accounts, outbox, supervisor_groups

PENDING, SENDING, SENT, FAILED, DEAD = "pending", "sending", "sent", "failed", "dead"
REPLY = "reply"  # the kind of an answer to a person, queued when it could not go at once
# An answer sent directly (not through the outbox), kept as send history only: sent, no text,
# so every dispatcher counts it against the limits. Kept for an hour.
ANSWERED = "answered"
ANSWERED_KEPT = timedelta(hours=1)
# Work an administrator scheduled for a future moment (`--at … --schedule`): a row of kind
# "job" to the pseudo-channel "bangfu", chat_id the job's name, payload text the moment (ISO).
# The dispatcher of `bangfu run` runs the job when the row falls due; it is not a message.
JOB = "job"
JOB_CHANNEL = "bangfu"
SLOTS_KEY = "_slots"  # payload key: platform messages one history row took
RECEIVED_KEY = "_received_at"  # payload key: when the update this reply answers arrived


_T: Table = outbox


@dataclass(frozen=True)
class NewMessage:
    dedupe_key: str
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    cadre_id: int | None = None
    group_id: int | None = None
    not_before: datetime | None = None
    due_on: date | None = None  # a reminder's most overdue duty: claimed first
    stage_on: date | None = None  # a sweep's reminder: the day swept (the row is its claim)


def pending_row(
    dedupe_key: str,
    channel: str,
    chat_id: str,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    cadre_id: int | None = None,
    group_id: int | None = None,
    not_before: datetime | None = None,
    due_on: date | None = None,
    stage_on: date | None = None,
) -> dict[str, Any]:
    """The row `enqueue` inserts for one message (for `enqueue_rows`)."""
    return {
        "dedupe_key": dedupe_key,
        "channel": channel,
        "chat_id": chat_id,
        "kind": kind,
        "payload": payload,
        "cadre_id": cadre_id,
        "group_id": group_id,
        "due_on": due_on,
        "stage_on": stage_on,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
        "claimed_by": "",
        "last_error": "",
    }


async def enqueue_rows(session: Executor, rows: list[dict[str, Any]]) -> int:
    """Insert `pending_row`s, skipping any whose dedupe_key exists; how many were new.

    One JSON text a statement, counted without RETURNING: a sweep enqueues 100,000s."""
    return await insert_many_ignore(session, _T, rows, ["dedupe_key"])


async def enqueue(session: Executor, messages: Iterable[NewMessage], *, now: datetime) -> int:
    """Insert messages, skipping any whose dedupe_key exists; returns how many were new."""
    rows = [
        pending_row(
            m.dedupe_key,
            m.channel,
            m.chat_id,
            m.kind,
            m.payload,
            now=now,
            cadre_id=m.cadre_id,
            group_id=m.group_id,
            not_before=m.not_before,
            due_on=m.due_on,
            stage_on=m.stage_on,
        )
        for m in messages
    ]
    return await enqueue_rows(session, rows)


@dataclass(frozen=True)
class Claimed:
    """A row one worker holds until it records the outcome or its lease ends."""

    id: int
    dedupe_key: str
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any]
    cadre_id: int | None
    group_id: int | None
    attempts: int  # including this one
    next_attempt_at: datetime


def _due(now: datetime, lease: timedelta) -> Any:
    return or_(
        and_(_T.c.status == PENDING, _T.c.next_attempt_at <= now),
        and_(_T.c.status == SENDING, _T.c.claimed_at <= now - lease),
    )


async def claim_due(
    session: Executor,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    channels: Collection[str] | None = None,
) -> list[Claimed]:
    """Claim up to `limit` due rows for `worker`, oldest first; counts one attempt each.

    Due: pending with next_attempt_at <= now, or sending whose lease has run out. One
    statement, WITH picked AS (SELECT … FOR UPDATE SKIP LOCKED) UPDATE … on PostgreSQL, so
    concurrent workers never get the same row; on SQLite the single statement is atomic by
    itself. The outer WHERE repeats the condition either way.
    """
    cond = _due(now, lease)
    if channels is not None:
        cond = and_(cond, _T.c.channel.in_(list(channels)))
    # Answers to people waiting (kind "reply") first; then rows without a due date (digests,
    # notices: few); then reminders, the most overdue first (a 50,000-cadre round takes the
    # bot half an hour); then the oldest due.
    first = case((_T.c.kind == REPLY, 0), else_=1)
    order = (first, _T.c.due_on.asc().nulls_first(), _T.c.next_attempt_at, _T.c.id)
    pick = select(_T.c.id).where(cond).order_by(*order).limit(limit)
    # A materialized CTE runs the locking pick once. As a plain IN (subquery) PostgreSQL may
    # rescan it per outer row, and each rescan skips the rows just claimed and locks more.
    picked = skip_locked(session, pick).cte("picked").prefix_with("MATERIALIZED")
    stmt = (
        update(_T)
        .where(_T.c.id.in_(select(picked.c.id)), cond)
        .values(status=SENDING, claimed_by=worker, claimed_at=now, attempts=_T.c.attempts + 1)
        .returning(
            _T.c.id,
            _T.c.dedupe_key,
            _T.c.channel,
            _T.c.chat_id,
            _T.c.kind,
            _T.c.payload,
            _T.c.cadre_id,
            _T.c.group_id,
            _T.c.attempts,
            _T.c.next_attempt_at,
        )
    )
    rows = [Claimed(**r._mapping) for r in await session.execute(stmt)]
    return sorted(rows, key=lambda r: (r.next_attempt_at, r.id))


def _mine(row_id: int, worker: str) -> Any:
    return and_(_T.c.id == row_id, _T.c.status == SENDING, _T.c.claimed_by == worker)


async def _finish(session: Executor, row_id: int, worker: str, **values: Any) -> bool:
    """Update a row this worker still holds; False when its lease was lost meanwhile."""
    result = await session.execute(update(_T).where(_mine(row_id, worker)).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_sent(session: Executor, row_id: int, *, worker: str, now: datetime) -> bool:
    return await _finish(session, row_id, worker, status=SENT, sent_at=now, last_error="")


async def retry_later(
    session: Executor, row_id: int, *, worker: str, at: datetime, error: str
) -> bool:
    """Back to pending until `at`; the attempt it used stays counted."""
    return await _finish(
        session, row_id, worker, status=PENDING, next_attempt_at=at, last_error=error[:500]
    )


async def defer(session: Executor, row_id: int, *, worker: str, at: datetime) -> bool:
    """Back to pending until `at` without sending (rate limit): the attempt is not counted."""
    return await _finish(
        session, row_id, worker, status=PENDING, next_attempt_at=at, attempts=_T.c.attempts - 1
    )


async def mark_failed(
    session: Executor, row_id: int, *, worker: str, error: str, dead: bool = False
) -> bool:
    """Give up: failed (a permanent error) or dead (too many attempts)."""
    return await _finish(
        session, row_id, worker, status=DEAD if dead else FAILED, last_error=error[:500]
    )


async def mark_blocked(session: Executor, channel: str, chat_id: str, *, now: datetime) -> int:
    """Record that the account(s) answered at this chat blocked the bot; returns how many.

    A supervisors' group at this chat (the bot was removed, the robot deleted) stops getting
    digests until it is bound again.
    """
    await session.execute(
        update(supervisor_groups)
        .where(supervisor_groups.c.channel == channel, supervisor_groups.c.chat_id == chat_id)
        .values(active=False)
    )
    result = await session.execute(
        update(chat_accounts)
        .where(
            chat_accounts.c.channel == channel,
            chat_accounts.c.chat_id == chat_id,
            chat_accounts.c.blocked_at.is_(None),
        )
        .values(blocked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def reminders_waiting(
    session: Executor, *, up_to: int, channels: Collection[str] | None = None
) -> int:
    """How many of the sweep's reminders wait to be sent (pending) through these channels,
    counted up to `up_to`."""
    where = [_T.c.status == PENDING, _T.c.stage_on.is_not(None)]
    if channels is not None:
        where.append(_T.c.channel.in_(list(channels)))
    waiting = select(_T.c.id).where(*where).limit(up_to).subquery()
    return int((await session.execute(select(func.count()).select_from(waiting))).scalar_one())


async def count_by_status(session: Executor) -> dict[str, int]:
    """Outbox messages by status (the send history of direct answers is not counted)."""
    rows = await session.execute(
        select(_T.c.status, func.count())
        .where(_T.c.kind.not_in([ANSWERED, JOB]))
        .group_by(_T.c.status)
    )
    return {status: int(n) for status, n in rows.all()}


async def schedule_job(session: Executor, job: str, at: datetime, *, now: datetime) -> bool:
    """Queue `job` to run at `at`; False when exactly that is already scheduled."""
    row = NewMessage(
        dedupe_key=f"{JOB}:{job}:{at.isoformat()}",
        channel=JOB_CHANNEL,
        chat_id=job,
        kind=JOB,
        payload={"text": at.isoformat()},
        not_before=at,
    )
    return await enqueue(session, [row], now=now) == 1


@dataclass(frozen=True)
class ScheduledJob:
    job: str
    at: datetime
    status: str


async def scheduled_jobs(session: Executor) -> list[ScheduledJob]:
    """Jobs scheduled with `--schedule` that have not run yet (pending or running)."""
    rows = await session.execute(
        select(_T.c.chat_id, _T.c.next_attempt_at, _T.c.status)
        .where(_T.c.kind == JOB, _T.c.status.in_([PENDING, SENDING]))
        .order_by(_T.c.next_attempt_at)
    )
    return [ScheduledJob(job, at, status) for job, at, status in rows.all()]


@dataclass(frozen=True)
class SentAnswer:
    """An answer a process sent directly, for the shared send history."""

    channel: str
    chat_id: str
    slots: int
    sent_at: datetime


async def record_answers(
    session: Executor,
    answers: Iterable[SentAnswer],
    *,
    worker: str,
    now: datetime,
    prune: bool = True,
) -> list[int]:
    """Add direct sends to the send history (and, with `prune`, forget those older than an
    hour: a range over every older sent row, so not on every write); their row ids, in
    the order given."""
    rows = [
        {
            "dedupe_key": answered_key(),
            "channel": a.channel,
            "chat_id": a.chat_id,
            "kind": ANSWERED,
            "payload": {SLOTS_KEY: a.slots},
            "status": SENT,
            "attempts": 1,
            "next_attempt_at": a.sent_at,
            "claimed_at": a.sent_at,
            "claimed_by": worker,
            "last_error": "",
            "created_at": a.sent_at,
            "sent_at": a.sent_at,
        }
        for a in answers
    ]
    ids: list[int] = []
    if rows:
        query = _T.insert().returning(_T.c.id, sort_by_parameter_order=True)
        ids = [int(i) for i in (await session.execute(query, rows)).scalars()]
    if prune:
        await session.execute(answered_pruned(now))
    return ids


def answered_key() -> str:
    """A direct answer's history row's dedupe key (unique; nobody looks it up)."""
    return f"{ANSWERED}:{secrets.token_hex(12)}"


def answered_pruned(now: datetime) -> Any:
    """The statement forgetting the direct answers sent over an hour before `now`."""
    return delete(_T).where(_T.c.sent_at < now - ANSWERED_KEPT, _T.c.kind == ANSWERED)


async def requeue(session: Executor, statuses: Collection[str], *, now: datetime) -> int:
    """Give rows in `statuses` (dead, failed) a fresh start: pending now, attempts reset."""
    result = await session.execute(
        update(_T)
        .where(_T.c.status.in_(list(statuses)))
        .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_by="", last_error="")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def release_claims(session: Executor, *, worker: str) -> int:
    """Hand back every row `worker` still holds (it is stopping): pending at once, the
    attempt not counted. A request cut short may have reached the platform: sent twice
    at worst, never lost."""
    result = await session.execute(
        update(_T)
        .where(_T.c.status == SENDING, _T.c.claimed_by == worker)
        .values(status=PENDING, claimed_by="", attempts=_T.c.attempts - 1)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RecentSend:
    """A send another worker made (ended at `ended`), or has in flight (`ended` is None)."""

    id: int
    channel: str
    chat_id: str
    payload: dict[str, Any]
    ended: datetime | None


async def recent_sends(
    session: Executor, *, since: datetime, other_than: str, lease_from: datetime
) -> list[RecentSend]:
    """Rows other workers sent since `since`, and rows they hold under a live lease."""
    cols = (_T.c.id, _T.c.channel, _T.c.chat_id, _T.c.payload)
    sent = select(*cols, _T.c.sent_at).where(
        _T.c.sent_at >= since, _T.c.status == SENT, _T.c.claimed_by != other_than
    )
    held = select(*cols, _T.c.sent_at).where(
        _T.c.status == SENDING, _T.c.claimed_by != other_than, _T.c.claimed_at > lease_from
    )
    out: list[RecentSend] = []
    for query in (sent, held):
        for row in await session.execute(query):
            ended = row.sent_at if row.sent_at is not None and query is sent else None
            out.append(RecentSend(row.id, row.channel, row.chat_id, row.payload, ended))
    return out


async def replies_waiting(session: Executor, channel: str, chat_id: str) -> int:
    """Queued answers to this chat not yet sent (pending or being sent)."""
    query = select(func.count()).where(
        _T.c.channel == channel,
        _T.c.chat_id == chat_id,
        _T.c.kind == REPLY,
        _T.c.status.in_([PENDING, SENDING]),
    )
    return int(await session.scalar(query) or 0)


@dataclass(frozen=True)
class Waiting:
    """Pending rows that share a send time and a history (for `outbox status`)."""

    next_attempt_at: datetime
    retried: bool  # a send failed before: it waits for its retry
    handled: bool  # a dispatcher held it back (quiet hours, rate) without trying
    count: int
    last_error: str


async def pending_waits(session: Executor) -> list[Waiting]:
    """Pending rows grouped by when they may go and why they have not gone yet."""
    retried = _T.c.attempts > 0
    handled = _T.c.claimed_by != ""
    rows = await session.execute(
        select(_T.c.next_attempt_at, retried, handled, func.count(), func.max(_T.c.last_error))
        .where(_T.c.status == PENDING, _T.c.kind != JOB)
        .group_by(_T.c.next_attempt_at, retried, handled)
        .order_by(_T.c.next_attempt_at)
    )
    return [
        Waiting(at, bool(r), bool(h), int(n), str(err or "")) for at, r, h, n, err in rows.all()
    ]
