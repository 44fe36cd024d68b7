"""Digests into the outbox: once per group and week, however often or wherever it runs."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.policy import Policy
from reminders.digest_send import enqueue_digests
from storage.db import Database
from storage.models import OutboxMessage
from tests.digest_factories import CountyBuilder, sample_county

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 23, 8, 30, tzinfo=SH)


async def _groups(db):
    async with db.transaction() as s:
        b = CountyBuilder(s)
        await b.unit("博白县/沙河镇")
        tg = await b.group("博白县", "telegram", "-100111")
        robot = await b.group("博白县/沙河镇", "wecom_robot", "robot-key-1")
        off = await b.group("博白县/顿谷镇", "telegram", "-100222")
        off.active = False
    return tg.id, robot.id


async def _rows(db):
    async with db.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_weekly_digests_enqueued_once_per_active_group(db):
    await sample_county(db)
    tg, robot = await _groups(db)
    assert await enqueue_digests(db, AT, Policy()) == 2
    assert await enqueue_digests(db, AT.replace(hour=20), Policy()) == 0  # same ISO week
    rows = await _rows(db)
    assert {r.dedupe_key for r in rows} == {
        f"digest:{tg}:2026-W48:1",
        f"digest:{tg}:2026-W48:2",
        f"digest:{robot}:2026-W48:1",
        f"digest:{robot}:2026-W48:2",
    }
    first = next(r for r in rows if r.dedupe_key == f"digest:{robot}:2026-W48:1")
    assert first.channel == "wecom_robot" and first.chat_id == "robot-key-1"
    assert first.kind == "digest" and first.group_id == robot
    assert "沙河镇 周汇总" in first.payload["text"] and "顿谷镇" not in first.payload["text"]
    chart = next(r for r in rows if r.dedupe_key == f"digest:{tg}:2026-W48:2")
    assert base64.b64decode(chart.payload["image_b64"]).startswith(b"\x89PNG")
    # The next week is a new digest.
    assert await enqueue_digests(db, datetime(2026, 11, 30, 8, 30, tzinfo=SH), Policy()) == 2


async def test_monthly_review_keyed_by_reviewed_month(db):
    await sample_county(db)
    tg, _ = await _groups(db)
    at = datetime(2026, 12, 1, 8, 30, tzinfo=SH)
    assert await enqueue_digests(db, at, Policy(), kind="monthly") == 2
    assert await enqueue_digests(db, at, Policy(), kind="monthly") == 0
    review = next(r for r in await _rows(db) if r.dedupe_key == f"review:{tg}:2026-11:1")
    assert review.kind == "review" and "2026年11月总结" in review.payload["text"]


async def test_two_processes_at_once_enqueue_each_digest_once(db):
    await sample_county(db)
    await _groups(db)
    other = Database(db.url, schema=db.schema)  # a second engine, as another process has
    try:
        counts = await asyncio.gather(
            enqueue_digests(db, AT, Policy()), enqueue_digests(other, AT, Policy())
        )
    finally:
        await other.dispose()
    assert sum(counts) == 2
    keys = [r.dedupe_key for r in await _rows(db)]
    assert len(keys) == len(set(keys)) == 4


async def test_utc_moment_is_read_in_the_county_zone(db):
    await sample_county(db)
    tg, _ = await _groups(db)
    # 23:30 UTC on Sunday 11-29 is Monday 11-30 07:30 in Shanghai: week 49, not 48.
    at = datetime(2026, 11, 29, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert await enqueue_digests(db, at, Policy(), tz=SH) == 2
    assert f"digest:{tg}:2026-W49:1" in {r.dedupe_key for r in await _rows(db)}
