"""The whole bot process as configured by `bangfu run`: on the 20th the scheduler's sweep
reminds the cadre (once), the weekly digest and the monthly review reach the bound group,
and the reminder's button opens a report for that household."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import ScheduleSettings
from bot.run import start
from storage.models import JobRun
from storage.people import bind_account, bind_group
from tests.clocks import RunningClock
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgChat, TgUser
from tests.seed import seed
from tests.tg_support import Phone, bot_settings

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Friday, the 20th
CADRE_CHAT, GROUP_CHAT = 5001, -1007001


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def test_scheduled_rhythm_reaches_cadre_and_group(tg, db):
    s = await seed(db, NOW)
    async with db.transaction() as session:
        await bind_account(
            session,
            channel="telegram",
            account_id=str(CADRE_CHAT),
            chat_id=str(CADRE_CHAT),
            cadre_id=s.cadre_id,
            language="zh",
            now=NOW,
        )
        await bind_group(
            session,
            channel="telegram",
            chat_id=str(GROUP_CHAT),
            unit_id=s.county_id,
            title="督导群",
            now=NOW,
        )
    settings = bot_settings(tg, poll_timeout=1).model_copy(
        update={"schedule": ScheduleSettings(dispatch_interval_seconds=0.05)}
    )
    rt = await start(settings, db=db, clock=RunningClock(NOW))
    try:
        # Reminder (1 message) + weekly digest (text + chart) + monthly review (text + chart).
        await tg.wait_for("sendMessage", count=3, within=60)
        await tg.wait_for("sendPhoto", count=2, within=60)
        await asyncio.sleep(0.3)  # more dispatcher ticks: nothing goes out twice
        [reminder] = tg.texts(CADRE_CHAT)
        for name in ("张三", "李四", "王小明", "陈美玲"):
            assert name in reminder
        assert sorted(tg.buttons(CADRE_CHAT)) == sorted(f"rep:h:{i}" for i in s.households.values())
        group_texts = tg.texts(GROUP_CHAT)
        assert len([t for t in group_texts if t]) >= 2
        assert any("博白县" in t for t in group_texts)
        phone = Phone(tg, rt, TgUser(CADRE_CHAT, "王建国"), TgChat(CADRE_CHAT))
        replies = await phone.tap("王小明")
        assert any("联系方式" in r for r in replies)
    finally:
        await rt.stop()
    async with db.transaction() as session:
        jobs = {(j.job, j.run_key) for j in await session.scalars(select(JobRun))}
    assert jobs == {("sweep", "2026-11-20"), ("digest", "2026-11-16"), ("review", "2026-11-01")}
