"""The sweep in chunks of cadres: the same outbox as one big chunk, each reminder once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from core.payload import payload_to_reply
from core.policy import Policy
from reminders.sweep import CadreReminder, run_sweep
from storage.db import Database
from storage.models import OutboxMessage, ReminderMark
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
POLICY = Policy()
# A monthly-contact day, 10 days before the quarter ends, and 3 days before 秋收.
SEP_20 = datetime(2026, 9, 20, 9, tzinfo=TZ)


async def _seed(db: Database) -> None:
    """23 cadres of every sort, their ids interleaved so chunks mix them."""
    async with db.transaction() as s:
        village = await f.unit(s)
        for i in range(23):
            who = await f.cadre(
                s,
                f"干部{i:02d}",
                active=i % 7 != 3,  # retired: the keyset must step over them
                leave_until=date(2026, 9, 30) if i % 5 == 4 else None,
            )
            if i % 6 != 5:  # the others have no account: unreachable
                await f.account(s, who, language="en" if i % 4 == 0 else "zh")
            if i % 8 == 1:  # a second account, blocked
                await f.account(s, who, "wecom", blocked_at=datetime(2026, 9, 1, tzinfo=UTC))
            homes = [await f.household(s, f"户{i:02d}{j}", village=village) for j in range(3)]
            for home in homes:
                await f.pairing(s, who, home)
            await f.contact(s, who, homes[0], "visit", date(2026, 9, 2))
            if i % 3 == 0:
                await f.contact(s, who, homes[1], "call", date(2026, 9, 5))
                await f.event(s, who, homes[2], "illness", date(2026, 9, 17), date(2026, 9, 24))


async def _outbox(db: Database) -> list[tuple[Any, ...]]:
    async with db.sessions() as s:
        rows = (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.dedupe_key))).all()
    return [
        (r.dedupe_key, r.channel, r.chat_id, r.kind, r.payload, r.cadre_id, r.next_attempt_at)
        for r in rows
    ]


async def _rendered(db: Database) -> list[tuple[Any, ...]]:
    """`_outbox` with each payload as the dispatcher renders it (the order of a reminder's
    stored duties is not the text's) and the due day."""
    async with db.sessions() as s:
        rows = (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.dedupe_key))).all()
    return [
        (r.dedupe_key, r.chat_id, r.kind, payload_to_reply(r.payload), r.cadre_id, r.due_on)
        for r in rows
    ]


async def _forget(db: Database) -> None:
    async with db.transaction() as s:
        await s.execute(delete(OutboxMessage))
        await s.execute(delete(ReminderMark))


async def test_small_chunks_give_the_same_outbox_as_one_big_chunk(db):
    await _seed(db)
    whole = await run_sweep(db, SEP_20, POLICY, chunk=10_000)
    expected = await _outbox(db)
    await _forget(db)
    seen: list[CadreReminder] = []
    chunked = await run_sweep(db, SEP_20, POLICY, chunk=4, keep=False, each=seen.append)
    assert await _outbox(db) == expected
    assert len(expected) == whole.enqueued == chunked.enqueued == chunked.message_count
    assert chunked.reminders == () and seen == list(whole.reminders)
    assert (chunked.cadres, chunked.duties) == (whole.cadres, whole.duties)
    assert chunked.unreachable == whole.unreachable and len(whole.unreachable) >= 2
    assert chunked.detail() == whole.detail()  # what the job run records
    kinds = {d.kind for r in whole.reminders for d in r.duties}
    assert kinds == {"contact", "visit", "farming", "event"}  # every kind crossed the chunks
    # A rerun cut into other chunks still finds everything already said.
    again = await run_sweep(db, SEP_20.replace(hour=15), POLICY, chunk=1)
    assert (again.enqueued, again.duties) == (0, 0) and await _outbox(db) == expected


async def test_concurrent_sweeps_with_different_chunks_enqueue_each_reminder_once(db):
    await _seed(db)
    expected = (await run_sweep(db, SEP_20, POLICY, dry_run=True)).messages
    other = Database(db.url, schema=db.schema)
    try:
        results = await asyncio.gather(
            run_sweep(db, SEP_20, POLICY, chunk=3),
            run_sweep(other, SEP_20.replace(second=1), POLICY, chunk=5),
        )
    finally:
        await other.dispose()
    rows = await _outbox(db)
    assert sum(r.enqueued for r in results) == len(rows) == len(expected)
    assert len({r[5] for r in rows}) == len({m.cadre_id for m in expected})
    keys = [d.key for r in results for c in r.reminders for d in c.duties]
    assert len(keys) == len(set(keys)) == results[0].duties + results[1].duties


@pytest.mark.parametrize("python_too", [False, True])
async def test_concurrent_sweeps_in_sql_enqueue_each_reminder_once(db, python_too):
    """Two daily sweeps decided in SQL (keep=False), or one beside a sweep that keeps its
    reminders (the Python path), with different chunks: each reminder once, one claim a
    cadre, the outbox the one sweep alone writes."""
    await _seed(db)
    await run_sweep(db, SEP_20, POLICY, chunk=10_000)
    expected = await _rendered(db)
    await _forget(db)
    other = Database(db.url, schema=db.schema)
    try:
        results = await asyncio.gather(
            run_sweep(db, SEP_20, POLICY, chunk=3, keep=False),
            run_sweep(other, SEP_20.replace(second=1), POLICY, chunk=5, keep=python_too),
        )
    finally:
        await other.dispose()
    assert await _rendered(db) == expected
    assert sum(r.enqueued for r in results) == len(expected)
    assert sum(r.cadres for r in results) == len({r[4] for r in expected})
    async with db.sessions() as s:  # the claims: each cadre's rows of the day, once
        claims = (await s.execute(select(OutboxMessage.cadre_id, OutboxMessage.stage_on))).all()
    assert {day for _, day in claims} == {SEP_20.date()}
    assert len({cadre for cadre, _ in claims}) == sum(r.cadres for r in results)
