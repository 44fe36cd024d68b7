"""Answers are never dropped, one chat never holds up another, limits hold for answers too:
the whole bot process against the fake Bot API, polling and webhook, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import DispatchSettings, ScheduleSettings
from bot.run import Runtime, start
from core.clock import FixedClock
from storage.db import Database
from storage.models import OutboxMessage
from tests.dispatch_helpers import max_in_window
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.seed import Seed, seed
from tests.tg_support import Phone, bot_settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
CADRE = TgUser(880001, "王建国")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def running(tg: FakeTelegram, db: Database, mode: str, **dispatch: object) -> Runtime:
    settings = bot_settings(tg, mode=mode, poll_timeout=1)
    settings.schedule = ScheduleSettings(enabled=False, dispatch_interval_seconds=0.2)
    settings.dispatch = DispatchSettings.model_validate(dispatch)
    return await start(settings, db=db, clock=FixedClock(NOW))


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, tg: FakeTelegram, db: Database):  # type: ignore[no-untyped-def]
    roster = await seed(db, NOW)
    rt = await running(tg, db, request.param)
    try:
        yield rt, roster, Phone(tg, rt, CADRE)
    finally:
        await rt.stop()


async def test_enrolment_and_mine_survive_a_502(
    bot: tuple[Runtime, Seed, Phone], tg: FakeTelegram
) -> None:
    _, roster, phone = bot
    tg.fail("sendMessage", 502, "Bad Gateway")
    answer = await phone.command("start", roster.code)
    assert sum("绑定成功" in t for t in answer) == 1, answer  # once, not lost, not twice
    tg.fail("sendMessage", 502, "Bad Gateway")
    answer = await phone.tap("我的")
    # The household list arrives once (我的 may add a second message with the 连心卡 buttons).
    assert sum("我的帮扶户" in t and "张三" in t for t in answer) == 1, answer
    assert [c.status for c in tg.calls_to("sendMessage")].count(502) == 2


async def test_a_long_flood_pause_queues_the_answer_and_it_arrives_once(
    tg: FakeTelegram, db: Database
) -> None:
    roster = await seed(db, NOW)
    rt = await running(tg, db, "polling", reply_deadline_seconds=2)
    try:
        phone = Phone(tg, rt, CADRE)
        await phone.command("start", roster.code)
        tg.fail("sendMessage", 429, retry_after=4)  # longer than the answer may wait in place
        calls = len(tg.calls_to("sendMessage"))
        tg.push(tg.updates.command(CADRE, "mine"))
        await tg.wait_for("sendMessage", calls + 1, within=30)  # sent by the dispatcher
        # The dispatcher records each send just after it; an answer of several messages
        # goes one a second (the chat's limit), so on a slow machine this takes a while.
        for _ in range(600):
            async with db.transaction() as s:
                query = select(OutboxMessage).where(OutboxMessage.kind == "reply")
                rows = list(await s.scalars(query))
            if rows and all(row.status == "sent" for row in rows):
                break
            await asyncio.sleep(0.05)
        states = [(r.status, r.attempts, r.last_error) for r in rows]
        assert rows and all(r.status == "sent" for r in rows), states
        assert all(r.chat_id == str(CADRE.id) for r in rows)
    finally:
        await rt.stop()
    mine = [t for t in tg.texts(CADRE.id) if "张三" in t]
    assert len(mine) == 1
    sends = tg.calls_to("sendMessage")
    i = max(k for k, c in enumerate(sends) if c.status == 429)
    refused, sent = sends[i], sends[i + 1]
    assert refused.status == 429 and sent.status == 200
    assert sent.at - refused.at >= 4  # the platform's pause was respected


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_one_chats_burst_does_not_hold_up_another(
    tg: FakeTelegram, db: Database, mode: str
) -> None:
    roster = await seed(db, NOW)
    rt = await running(tg, db, mode)
    try:
        cadre = Phone(tg, rt, CADRE)
        await cadre.command("start", roster.code)
        stranger = TgUser(770001, "路人")
        burst = [tg.updates.text(stranger, f"你好{i}") for i in range(20)]
        press = cadre.press_update("我的")
        before = len(tg.texts(CADRE.id))
        posts = []
        if mode == "polling":
            for update in burst:
                tg.push(update)
            await tg.wait_for("sendMessage", len(tg.calls_to("sendMessage")) + 1)
            tg.push(press)
        else:
            url = rt.settings.telegram.webhook_url
            posts = [asyncio.create_task(_post(url, u)) for u in burst]
            await tg.wait_for("sendMessage", len(tg.calls_to("sendMessage")) + 1)
            posts.append(asyncio.create_task(_post(url, press)))
        for _ in range(30):  # answers to anyone arrive; stop at the cadre's
            if len(tg.texts(CADRE.id)) > before:
                break
            await tg.wait_for("sendMessage", len(tg.calls_to("sendMessage")) + 1)
        answer = tg.texts(CADRE.id)[before:]
        answered_stranger = len(tg.texts(stranger.id))
        for post in posts:
            post.cancel()
    finally:
        await rt.stop()
    assert len(answer) == 1 and "张三" in answer[0]
    # The stranger's answers are paced (1 a second): most were still to come.
    assert answered_stranger < 10


async def _post(url: str, update: dict[str, object]) -> None:
    from tests.fakes.telegram_updates import post_webhook
    from tests.tg_support import WEBHOOK_SECRET

    await post_webhook(url, update, WEBHOOK_SECRET)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_answers_in_one_chat_are_paced_and_in_order(
    tg: FakeTelegram, db: Database, mode: str
) -> None:
    await seed(db, NOW)
    # A fast per-chat rule keeps the test short; the rule is what is checked.
    rt = await running(tg, db, mode, telegram_per_chat="1/0.2s", margin_seconds=0)
    stranger = TgUser(770002, "路人")
    updates = [tg.updates.text(stranger, f"第{i}条") for i in range(12)]
    try:
        if mode == "polling":
            for update in updates:
                tg.push(update)
        else:
            url = rt.settings.telegram.webhook_url
            for update in updates:  # one after the other, as Telegram posts one chat's
                await _post(url, update)
        await tg.wait_for("sendMessage", 12, within=60)
    finally:
        await rt.stop()
    sent = [c for c in tg.calls_to("sendMessage") if c.status == 200]
    assert len(sent) == 12  # one answer each: none lost, none doubled
    arrivals = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=c.at) for c in sent]
    assert max_in_window(arrivals, 0.2) <= 1  # no per-chat limit violation at the platform


async def test_stopping_mid_dispatch_hands_rows_back_without_an_error(
    tg: FakeTelegram, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.dispatch_helpers import put

    for i in range(40):  # one chat: paced at 1 a second, so the round is mid-way at the stop
        await put(db, "telegram", "4242", f"r{i}", f"提醒{i}")
    rt = await running(tg, db, "polling")
    await tg.wait_for("sendMessage", 2, within=30)
    await rt.stop()
    async with db.transaction() as s:
        statuses = [r.status for r in await s.scalars(select(OutboxMessage))]
    assert "sending" not in statuses  # handed back, not left to the lease
    assert statuses.count("sent") == len([c for c in tg.calls_to("sendMessage")])
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
