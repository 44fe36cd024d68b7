"""One-line reports as cadres write them, end to end through the fake Bot API: dates read and
shown, times that are not one day asked with buttons, several households, a photo with a
caption, and the offers to record an event or a problem the text names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.run import Runtime, start
from core.clock import FixedClock
from storage.db import Database
from storage.models import Cadre, Contact, Event, Problem, Unit
from tests import factories
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.seed import Seed, seed
from tests.tg_support import Phone, bot_settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday
CADRE = TgUser(880011, "王建国")


@pytest.fixture
async def bot(db: Database) -> AsyncIterator[tuple[Runtime, Seed, Phone, FakeTelegram]]:
    async with FakeTelegram() as tg:
        roster = await seed(db, NOW)
        rt = await start(bot_settings(tg, poll_timeout=1), db=db, clock=FixedClock(NOW))
        phone = Phone(tg, rt, CADRE)
        try:
            answer = await phone.command("start", roster.code)
            assert any("绑定成功" in t for t in answer), answer
            yield rt, roster, phone, tg
        finally:
            await phone.rt.stop()


async def rows(db: Database, model: type) -> list:
    async with db.transaction() as s:
        return list(await s.scalars(select(model).order_by(model.id)))


async def test_a_relative_date_is_shown_as_read_and_saved_as_that_day(bot, db):
    _, roster, phone, _ = bot
    answer = await phone.say("上周五去了张三家，看了他家的鸡舍")
    card = answer[-1]
    assert "户主：张三" in card and "日期：上周五（11月20日）" in card and "入户走访" in card
    await phone.tap("确认保存")
    [contact] = await rows(db, Contact)
    assert contact.household_id == roster.households["张三"]
    assert contact.occurred_on == date(2026, 11, 20) and contact.kind == "visit"


async def test_a_time_that_is_not_one_day_is_asked_never_taken_as_today(bot, db):
    _, _, phone, _ = bot
    answer = await phone.say("前两天给李四打了电话")
    assert any("「前两天」是哪一天" in t for t in answer), answer
    assert not any("请核对" in t for t in answer)  # no card until the day is chosen
    answer = await phone.tap("11月21日")
    assert "日期：11月21日（周六）" in answer[-1] and "电话联系" in answer[-1]
    await phone.tap("确认保存")
    [contact] = await rows(db, Contact)
    assert contact.occurred_on == date(2026, 11, 21) and contact.kind == "call"


async def test_two_households_in_one_line_are_two_records_undone_together(bot, db):
    _, roster, phone, _ = bot
    answer = await phone.say("今天去了张三和李四家")
    assert "张三、李四（共 2 户，各记一条）" in answer[-1]
    answer = await phone.tap("确认保存")
    assert any("已保存" in t for t in answer)
    saved = await rows(db, Contact)
    assert sorted(c.household_id for c in saved) == sorted(
        [roster.households["张三"], roster.households["李四"]]
    )
    assert all(c.occurred_on == date(2026, 11, 23) for c in saved)
    answer = await phone.command("undo")
    assert any("撤销" in t for t in answer), answer
    assert all(c.deleted_at is not None for c in await rows(db, Contact))


async def test_a_photo_with_a_caption_starts_a_report_with_the_photo(bot, db, tmp_path):
    _, roster, phone, tg = bot
    photo = tg.updates.photo(CADRE, caption="昨天去了王小明家，房子漏雨")
    answer = await phone.deliver(photo)
    card = answer[-1]
    assert "户主：王小明" in card and "照片 1 张" in card and "昨天（11月22日" in card
    assert "问题：房子漏雨" in card  # the problem is offered on the card, recorded with it
    await phone.tap("确认保存")
    [contact] = await rows(db, Contact)
    largest = max(photo["message"]["photo"], key=lambda p: p["width"])["file_id"]
    assert contact.photo_refs == [largest] and contact.occurred_on == date(2026, 11, 22)
    [problem] = await rows(db, Problem)
    assert problem.household_id == roster.households["王小明"]
    assert problem.description == "房子漏雨"


async def test_an_event_in_a_report_is_offered_after_the_save(bot, db):
    _, roster, phone, _ = bot
    await phone.say("今天去了陈美玲家，她老伴住院了")
    answer = await phone.tap("确认保存")
    assert any("已保存" in t for t in answer)
    assert any("五必访事件（大病/住院）" in t for t in answer), answer
    answer = await phone.tap("记录五必访事件")
    assert "哪天发生的" in answer[-1]  # household and kind came from the report; not the day
    answer = await phone.tap("今天")
    assert "简单说明" in answer[-1]
    await phone.say("老伴脑梗住院")
    answer = await phone.tap("确认保存")
    [event] = await rows(db, Event)
    assert event.household_id == roster.households["陈美玲"] and event.kind == "illness"
    assert len(await rows(db, Contact)) == 1


async def test_news_without_a_contact_offers_the_event_and_nothing_is_saved(bot, db):
    _, _, phone, _ = bot
    answer = await phone.say("李四昨天住院了")
    assert any("要记下来吗" in t for t in answer), answer
    assert await rows(db, Contact) == []
    answer = await phone.tap("记录五必访事件")
    assert "简单说明" in answer[-1]  # the day (昨天) came from the text
    await phone.tap("跳过")
    await phone.tap("确认保存")
    [event] = await rows(db, Event)
    assert event.occurred_on == date(2026, 11, 22) and event.kind == "illness"


async def test_a_problem_without_a_contact_is_offered(bot, db):
    _, roster, phone, _ = bot
    answer = await phone.say("张三想申请低保")
    assert any("要记下来吗" in t for t in answer), answer
    answer = await phone.tap("记录问题")
    # The appeal flow opens with the household already chosen: its first question is the category.
    assert any("诉求类别" in t for t in answer), answer
    assert "由哪个单位办理" in (await phone.tap("低保/救助"))[-1]
    assert "办理期限" in (await phone.say("顿谷镇"))[-1]
    await phone.tap("按规定")
    await phone.say("想申请低保")
    await phone.tap("确认")
    [problem] = await rows(db, Problem)
    assert problem.household_id == roster.households["张三"]
    assert await rows(db, Contact) == []


async def test_the_offered_problem_is_prefilled_and_kept_or_edited(bot, db):
    _, roster, phone, _ = bot
    answer = await phone.say("听说李四家房子漏雨了")
    assert any("提到了问题" in t and "要记下来吗" in t for t in answer), answer
    await phone.tap("记录问题")
    await phone.tap("住房")
    await phone.say("顿谷镇")
    answer = await phone.tap("按规定")
    # The description is the message's own words; one tap keeps them.
    assert "「房子漏雨了」" in answer[-1] and "用这段" in answer[-1], answer
    answer = await phone.tap("用这段")
    assert "房子漏雨了" in answer[-1]  # the card shows it, with 改描述 to edit
    await phone.tap("确认")
    # The same offer again, this time the cadre writes their own description.
    await phone.say("王小明说孩子学费没着落")
    await phone.tap("记录问题")
    await phone.tap("教育")
    await phone.say("顿谷镇")
    answer = await phone.tap("按规定")
    assert "「孩子学费没着落」" in answer[-1], answer
    await phone.say("孩子下学期学费差三千元")
    await phone.tap("确认")
    problems = await rows(db, Problem)
    assert [(p.household_id, p.description) for p in problems] == [
        (roster.households["李四"], "房子漏雨了"),
        (roster.households["王小明"], "孩子下学期学费差三千元"),
    ]
    assert await rows(db, Contact) == []


async def test_a_plan_gets_a_polite_note_and_nothing_is_saved(bot, db):
    _, _, phone, _ = bot
    answer = await phone.say("明天去张三家")
    assert answer == ["好的，这是计划，还没有联系，所以没有保存。联系之后再发一句就行。"]
    assert await rows(db, Contact) == []


async def test_text_at_button_steps_is_read_like_the_button(bot, db):
    _, _, phone, _ = bot
    await phone.command("report")
    await phone.tap("张三")
    answer = await phone.say("打电话")
    assert any("哪天联系" in t for t in answer), answer
    answer = await phone.say("明天")
    assert any("不能是将来" in t for t in answer), answer  # read, and refused for what it is
    answer = await phone.say("上周五")
    assert any("六帮" in t for t in answer), answer
    answer = await phone.say("讲政策，帮卖货")
    assert any("六帮" in t for t in answer), answer  # both chosen, the step shown again
    await phone.tap("完成")
    await phone.say("聊了聊收成")
    await phone.say("无")
    await phone.tap("完成")
    await phone.tap("确认保存")
    [contact] = await rows(db, Contact)
    assert contact.kind == "call" and contact.occurred_on == date(2026, 11, 20)
    assert contact.help_tags == ["政策", "销路"]


async def test_a_voice_note_is_kept_as_evidence_and_a_line_of_text_asked(bot, db):
    _, roster, phone, tg = bot
    answer = await phone.deliver(tg.updates.voice(CADRE))
    assert any("语音已保存为凭证" in t for t in answer), answer
    answer = await phone.say("昨天去了陈美玲家")
    card = answer[-1]
    assert "户主：陈美玲" in card and "语音：1 条" in card and "昨天（11月22日" in card
    await phone.tap("确认保存")
    [contact] = await rows(db, Contact)
    assert contact.photo_refs == ["voice1"]  # Telegram keeps it by file id, like photos
    assert contact.household_id == roster.households["陈美玲"]
    assert contact.occurred_on == date(2026, 11, 22)


async def test_a_nickname_that_fits_two_households_offers_both(bot, db):
    _, roster, phone, tg = bot
    async with db.transaction() as s:
        cadre = await s.get(Cadre, roster.cadre_id)
        village = await s.scalar(select(Unit).where(Unit.path.like("%旧门村")))
        await factories.pairing(s, cadre, await factories.household(s, "张秀英", village=village))
    answer = await phone.say("老张家今天去了")
    assert any("是哪一户" in t for t in answer), answer
    labels = [
        b["text"] for row in tg.sent(CADRE.id)[-1]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert (
        "张三（旧门村）" in labels
        and "张秀英（旧门村）" in labels
        and "李四（旧门村）" not in labels
    )
    answer = await phone.tap("张秀英")
    assert "户主：张秀英" in answer[-1] and "今天（11月23日" in answer[-1]
    await phone.tap("确认保存")
    [contact] = await rows(db, Contact)
    assert contact.occurred_on == date(2026, 11, 23) and contact.kind == "visit"
