"""Claiming outbox rows: bounded, oldest first, leased, and never twice at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
LEASE = timedelta(seconds=300)


async def fill(db, n: int) -> None:  # type: ignore[no-untyped-def]
    msgs = [
        outbox.NewMessage(
            f"k{i}",
            "telegram",
            str(i),
            "reminder",
            {"text": "x"},
            not_before=NOW - timedelta(seconds=n - i),
        )
        for i in range(n)
    ]
    async with db.transaction() as s:
        await outbox.enqueue(s, msgs, now=NOW)


async def test_claim_takes_at_most_limit_oldest_first(db):
    await fill(db, 30)
    async with db.transaction() as s:
        got = await outbox.claim_due(s, worker="w", now=NOW, lease=LEASE, limit=7)
    assert [r.dedupe_key for r in got] == [f"k{i}" for i in range(7)]
    assert all(r.attempts == 1 for r in got)
    async with db.transaction() as s:
        again = await outbox.claim_due(s, worker="v", now=NOW, lease=LEASE, limit=100)
    assert len(again) == 23  # the seven are leased to w


async def test_defer_returns_the_attempt_retry_keeps_it(db):
    await fill(db, 2)
    async with db.transaction() as s:
        a, b = await outbox.claim_due(s, worker="w", now=NOW, lease=LEASE, limit=2)
        later = NOW + timedelta(minutes=5)
        assert await outbox.defer(s, a.id, worker="w", at=later)
        assert await outbox.retry_later(s, b.id, worker="w", at=later, error="HTTP 502")
        assert not await outbox.mark_sent(s, a.id, worker="w", now=NOW)  # no longer held
    async with db.transaction() as s:
        rows = {r.dedupe_key: r for r in await s.scalars(select(OutboxMessage))}
    assert (rows["k0"].attempts, rows["k0"].status) == (0, "pending")
    assert (rows["k1"].attempts, rows["k1"].last_error) == (1, "HTTP 502")
    assert rows["k1"].next_attempt_at == NOW + timedelta(minutes=5)


async def test_concurrent_claimers_never_share_a_row(db):
    """Six "processes", each with its own engine, claim in small bites until nothing is left."""
    await fill(db, 300)
    engines = [Database(db.url, schema=db.schema) for _ in range(6)]

    async def claimer(i: int, other: Database) -> list[int]:
        mine: list[int] = []
        while True:
            async with other.transaction() as s:
                got = await outbox.claim_due(s, worker=f"w{i}", now=NOW, lease=LEASE, limit=9)
            if not got:
                return mine
            mine += [r.id for r in got]

    try:
        results = await asyncio.gather(*(claimer(i, e) for i, e in enumerate(engines)))
    finally:
        for e in engines:
            await e.dispose()
    claimed = [row_id for ids in results for row_id in ids]
    assert len(claimed) == 300 and len(set(claimed)) == 300
    assert sum(1 for ids in results if ids) >= 2  # they really competed


async def test_a_round_goes_most_overdue_first(db):
    """Answers first, then digests (no due date), then reminders by how overdue they are."""
    due = {
        "r-today": date(2026, 11, 23),
        "r-month": date(2026, 10, 20),
        "r-week": date(2026, 11, 16),
    }
    msgs = [outbox.NewMessage(key, "telegram", key, "reminder", {"text": key}, due_on=day)
            for key, day in due.items()]  # fmt: skip
    msgs += [
        outbox.NewMessage("digest", "telegram", "-100", "digest", {"text": "d"}),
        outbox.NewMessage("reply", "telegram", "7", "reply", {"text": "r"}),
    ]
    async with db.transaction() as s:
        await outbox.enqueue(s, msgs, now=NOW)
    order = []
    for _ in msgs:
        async with db.transaction() as s:
            [row] = await outbox.claim_due(s, worker="w", now=NOW, lease=LEASE, limit=1)
        order.append(row.dedupe_key)
    assert order == ["reply", "digest", "r-month", "r-week", "r-today"]
