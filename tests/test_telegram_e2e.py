"""End to end: the real PTB Application, the whole bot process and the fake Bot API.

A cadre enrols with `/start CODE` and reports a visit by pressing buttons, on SQLite and
PostgreSQL, by polling and by webhook; restarts, redeliveries, strangers and stickers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.run import Runtime, start
from core.clock import FixedClock
from storage.db import Database
from storage.models import Contact, ProcessedMessage, SupervisorGroup, Unit
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgChat, TgUser, post_webhook
from tests.seed import Seed, seed
from tests.tg_support import Phone, bot_settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
CADRE = TgUser(880001, "王建国")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, tg: FakeTelegram, db: Database):  # type: ignore[no-untyped-def]
    """A running bot (polling or webhook), the seeded roster and the cadre's phone."""
    roster = await seed(db, NOW)
    rt = await start(
        bot_settings(tg, mode=request.param, poll_timeout=1), db=db, clock=FixedClock(NOW)
    )
    phone = Phone(tg, rt, CADRE)
    try:
        yield rt, roster, phone
    finally:
        await phone.rt.stop()


async def contacts(db: Database) -> list[Contact]:
    async with db.transaction() as s:
        return list(await s.scalars(select(Contact).order_by(Contact.id)))


async def enrol(phone: Phone, roster: Seed) -> None:
    answer = await phone.command("start", roster.code)
    assert any("绑定成功" in t for t in answer), answer


async def test_enrol_and_report_a_visit_by_buttons(
    bot: tuple[Runtime, Seed, Phone], tg: FakeTelegram, db: Database
) -> None:
    _, roster, phone = bot
    await enrol(phone, roster)
    for label in ("报告联系", "张三", "入户走访", "昨天", "政策上帮", "完成"):
        await phone.tap(label)
    await phone.say("了解了玉米收成，讲解了产业奖补政策")
    await phone.say("无")
    answer = await phone.tap("完成")
    assert any("请核对" in t and "张三" in t for t in answer), answer
    card = phone.press_update("确认保存")
    sent_before = len(tg.calls_to("sendMessage"))
    answer = await phone.deliver(card)
    assert any("已保存" in t for t in answer), answer
    [contact] = await contacts(db)
    assert contact.kind == "visit" and contact.household_id == roster.households["张三"]
    assert contact.occurred_on == date(2026, 11, 22)
    assert contact.help_tags == ["政策"]
    # The card became the 已保存 answer, with the answer's buttons (撤销 among them): no new
    # message, and the card's 确认保存 can no longer be pressed.
    card_id = card["callback_query"]["message"]["message_id"]
    saved = tg.messages[(CADRE.id, card_id)]
    assert "已保存" in saved["text"]
    assert "撤销" in str(saved["reply_markup"]) and "确认保存" not in str(saved["reply_markup"])
    assert len(tg.calls_to("sendMessage")) == sent_before
    assert tg.texts(CADRE.id)[-1] == saved["text"]
    # Every other pressed keyboard was taken away: no button can be pressed twice.
    assert len(tg.calls_to("answerCallbackQuery")) == 8
    pressed = {c.params["message_id"] for c in tg.calls_to("editMessageReplyMarkup")}
    assert len(pressed) == 7 and card_id not in pressed
    assert all(not tg.messages[(CADRE.id, m)].get("reply_markup") for m in pressed)


async def test_draft_survives_a_restart_between_two_steps(
    bot: tuple[Runtime, Seed, Phone], tg: FakeTelegram, db: Database
) -> None:
    rt, roster, phone = bot
    await enrol(phone, roster)
    for label in ("报告联系", "李四", "电话联系"):
        await phone.tap(label)
    await rt.stop()
    phone.rt = await start(rt.settings, db=db, clock=FixedClock(NOW))
    for label in ("今天", "生活上帮", "完成"):
        await phone.tap(label)
    await phone.say("问了身体情况")
    await phone.say("无")
    await phone.tap("完成")
    await phone.tap("确认保存")
    [contact] = await contacts(db)
    assert contact.kind == "call" and contact.household_id == roster.households["李四"]
    assert contact.occurred_on == date(2026, 11, 23)


async def test_the_same_update_twice_is_stored_once(
    bot: tuple[Runtime, Seed, Phone], tg: FakeTelegram, db: Database
) -> None:
    _, roster, phone = bot
    await enrol(phone, roster)
    for label in ("报告联系", "王小明", "入户走访", "今天", "政策上帮", "完成"):
        await phone.tap(label)
    await phone.say("看了房子")
    await phone.say("无")
    await phone.tap("完成")
    confirm = phone.press_update("确认保存")
    first = await phone.deliver(confirm)
    again = await phone.deliver(confirm, again=True)
    assert any("已保存" in t for t in first)
    assert again == []  # nothing said twice
    assert len(await contacts(db)) == 1


async def test_unbound_user_gets_the_explanation_and_nothing_else(
    bot: tuple[Runtime, Seed, Phone], tg: FakeTelegram, db: Database
) -> None:
    rt, _, _ = bot
    stranger = Phone(tg, rt, TgUser(770077, "路人"))
    for attempt in (stranger.say("我的"), stranger.command("report")):
        answer = await attempt
        assert len(answer) == 1 and "绑定" in answer[0]
    assert tg.buttons(770077) == []
    assert await contacts(db) == []


async def test_sticker_mid_flow_is_answered_and_the_draft_kept(
    bot: tuple[Runtime, Seed, Phone], tg: FakeTelegram, db: Database
) -> None:
    _, roster, phone = bot
    await enrol(phone, roster)
    for label in ("报告联系", "陈美玲", "入户走访"):
        await phone.tap(label)
    answer = await phone.deliver(tg.updates.sticker(CADRE))
    assert any("看不懂" in t for t in answer), answer
    for label in ("今天", "政策上帮", "完成"):  # the buttons of the re-asked step
        await phone.tap(label)
    await phone.say("了解情况")
    await phone.say("无")
    await phone.tap("完成")
    await phone.tap("确认保存")
    [contact] = await contacts(db)
    assert contact.household_id == roster.households["陈美玲"] and contact.kind == "visit"


async def test_photo_and_location_are_kept_as_evidence(
    bot: tuple[Runtime, Seed, Phone], tg: FakeTelegram, db: Database
) -> None:
    _, roster, phone = bot
    await enrol(phone, roster)
    for label in ("报告联系", "张三", "入户走访", "今天", "政策上帮", "完成"):
        await phone.tap(label)
    await phone.say("查看了危房改造进度")
    await phone.say("无")
    photo = tg.updates.photo(CADRE)
    answer = await phone.deliver(photo)
    assert any("已收到" in t for t in answer), answer
    await phone.deliver(tg.updates.location(CADRE, 22.2712, 109.9803))
    await phone.tap("完成")
    await phone.tap("确认保存")
    [contact] = await contacts(db)
    largest = max(photo["message"]["photo"], key=lambda p: p["width"])["file_id"]
    assert contact.photo_refs == [largest]
    assert (contact.latitude, contact.longitude) == (22.2712, 109.9803)


async def test_supervisors_group_binds_with_bind_at_botname(
    bot: tuple[Runtime, Seed, Phone], tg: FakeTelegram, db: Database
) -> None:
    rt, roster, _ = bot
    group = TgChat(-100777, "supergroup", "顿谷镇帮扶督导群")
    member = Phone(tg, rt, TgUser(660066, "督导员"), group)
    assert await member.say("大家好") == []  # a group's chatter is not for the bot
    answer = await member.command("bind", roster.group_code, addressed=True)
    assert len(answer) == 1 and "督导群" in answer[0] and "顿谷镇" in answer[0]
    async with db.transaction() as s:
        bound = (await s.scalars(select(SupervisorGroup))).one()
        town = await s.scalar(select(Unit).where(Unit.path == "博白县/顿谷镇"))
    assert town is not None
    assert (bound.channel, bound.chat_id, bound.title) == (
        "telegram",
        str(group.id),
        "顿谷镇帮扶督导群",
    )
    assert bound.unit_id == town.id


async def test_webhook_with_wrong_secret_is_refused(tg: FakeTelegram, db: Database) -> None:
    roster = await seed(db, NOW)
    settings = bot_settings(tg, mode="webhook")
    rt = await start(settings, db=db, clock=FixedClock(NOW))
    try:
        update = tg.updates.command(CADRE, "start", roster.code)
        assert await post_webhook(settings.telegram.webhook_url, update, "wrong-secret") == 403
        assert await post_webhook(settings.telegram.webhook_url, update, None) == 403
    finally:
        await rt.stop()
    assert tg.sent() == []
    async with db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(ProcessedMessage)) == 0


async def test_a_cancelled_correction_keeps_the_record_and_undo_names_it(
    bot: tuple[Runtime, Seed, Phone], db: Database
) -> None:
    # Once /correct then /cancel lost the original record for good.
    _, roster, phone = bot
    await enrol(phone, roster)
    await phone.say("今天去李四家走访了，看了鸡舍")
    await phone.tap("确认保存")
    answer = await phone.command("correct")
    assert any("请核对" in t for t in answer), answer
    answer = await phone.command("cancel")
    assert any("原记录保留" in t for t in answer), answer
    assert [c.deleted_at for c in await contacts(db)] == [None]
    answer = await phone.command("undo")
    assert any("已撤销：11月23日（周一）入户走访 李四" in t for t in answer), answer
    assert [c.deleted_at is None for c in await contacts(db)] == [False]
