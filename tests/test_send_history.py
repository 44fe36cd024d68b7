"""The shared send history of direct answers: written in small batches, and forgotten
past an hour — but pruned once a minute, not on every batch (the prune ranges over every
older sent row while SQLite's one writer waits)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.deliver import Deliverer, Outcome
from bot.ratelimit import RateLimiter
from core.types import Reply
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage
from tests.dispatch_helpers import RecordingSender, VirtualTime, settings


async def _answered(db: Database) -> int:
    async with db.transaction() as s:
        query = select(func.count()).where(OutboxMessage.kind == "answered")
        return int(await s.scalar(query) or 0)


async def _an_old_answer(db: Database, time: VirtualTime) -> None:
    """Another process's answer, sent two hours ago."""
    long_ago = time.clock.now() - timedelta(hours=2)
    async with db.transaction() as s:
        old = outbox.SentAnswer("telegram", "7", 1, long_ago)
        await outbox.record_answers(s, [old], worker="other", now=long_ago, prune=False)


async def test_answers_older_than_an_hour_are_forgotten_once_a_minute(db: Database) -> None:
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    conf = settings()
    limiter = RateLimiter(time.clock, time.sleep, margin_seconds=conf.margin_seconds)
    deliverer = Deliverer(
        db, {"telegram": tg}, limiter=limiter, settings=conf, clock=time.clock, sleep=time.sleep
    )

    async def answer() -> None:
        assert await deliverer.deliver("telegram", "42", [Reply("好")]) == [Outcome.SENT]
        await deliverer.flush_history()

    await _an_old_answer(db, time)
    await answer()
    assert await _answered(db) == 1  # the first batch pruned: only the new answer is left
    await _an_old_answer(db, time)
    time.clock.advance(timedelta(seconds=30))
    await answer()
    assert await _answered(db) == 3  # within the minute: written, nothing pruned
    time.clock.advance(timedelta(seconds=31))
    await answer()
    assert await _answered(db) == 3  # a minute on: the old one gone, the third written
