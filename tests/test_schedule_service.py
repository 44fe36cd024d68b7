"""The scheduling service inside the bot process: a caught-up sweep's reminder reaches the
fake Telegram through the dispatcher's tick, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import ScheduleSettings
from bot.run import start
from bot.schedule import SWEEP, scheduling_service
from storage.outbox import NewMessage, enqueue, schedule_job, scheduled_jobs
from tests.clocks import RunningClock
from tests.fakes.telegram_api import FakeTelegram
from tests.tg_support import bot_settings

# A weekday morning outside quiet hours: the dispatcher must not hold the reminder back. The
# service reads this clock, never the wall clock, so the test passes at any hour.
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def test_caught_up_sweep_is_delivered_by_the_dispatcher(tg, db):
    runs: list[datetime] = []

    async def sweep(at: datetime) -> dict[str, int]:
        runs.append(at)
        msg = NewMessage(
            f"call:1:{at.date()}", "telegram", "4242", "reminder", {"text": "本月请联系"}
        )
        async with db.transaction() as s:
            return {"queued": await enqueue(s, [msg], now=at)}

    settings = bot_settings(tg, poll_timeout=1)
    settings = settings.model_copy(
        update={"schedule": ScheduleSettings(dispatch_interval_seconds=0.05)}
    )
    rt = await start(
        settings,
        db=db,
        clock=RunningClock(NOW),
        services=[scheduling_service(lambda host: {SWEEP: sweep})],
    )
    try:
        await tg.wait_for("sendMessage")
        await asyncio.sleep(0.2)  # a few more ticks: nothing is sent twice
    finally:
        await rt.stop()
    assert len(runs) == 1  # the catch-up ran the latest scheduled sweep
    assert tg.texts(4242) == ["本月请联系"]


async def test_a_job_scheduled_with_at_runs_in_the_process_when_due(tg, db):
    """`bangfu reminders run --at FUTURE --schedule` left a job row; the running process's
    dispatcher runs the sweep for that moment once it is due, and its reminder goes out."""
    runs: list[datetime] = []

    async def sweep(at: datetime) -> dict[str, int]:
        runs.append(at)
        msg = NewMessage(f"call:2:{at}", "telegram", "4343", "reminder", {"text": "该走访了"})
        async with db.transaction() as s:
            return {"queued": await enqueue(s, [msg], now=at)}

    at = NOW.replace(minute=29)  # scheduled for a minute ago: due now
    async with db.transaction() as s:
        assert await schedule_job(s, SWEEP, at, now=NOW.replace(hour=8))
    settings = bot_settings(tg, poll_timeout=1)
    settings = settings.model_copy(
        update={"schedule": ScheduleSettings(enabled=False, dispatch_interval_seconds=0.05)}
    )
    rt = await start(
        settings,
        db=db,
        clock=RunningClock(NOW),
        services=[scheduling_service(lambda host: {SWEEP: sweep})],
    )
    try:
        await tg.wait_for("sendMessage")
        await asyncio.sleep(0.2)  # a few more ticks: the job does not run twice
    finally:
        await rt.stop()
    assert runs == [at]  # the moment asked for (cron jobs are off here)
    assert tg.texts(4343) == ["该走访了"]
    async with db.transaction() as s:
        assert await scheduled_jobs(s) == []
