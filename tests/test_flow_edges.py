"""Edge cases found while testing the flows' robustness: each was a wrong record, a lost
draft, a stuck conversation or an internal error."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update

from core.types import InboundKind
from storage.models import Contact, Household, Pairing, Problem
from tests.chat import texts
from tests.flowkit import (
    NOW,
    TZ,
    assert_clear_chinese,
    bound_world,
    conversation,
    leave_of,
    saved_records,
    walk_to,
)


async def test_typing_none_at_an_optional_step_raises_no_problem(db) -> None:
    """ "没有" typed at "any problems raised?" is a skip, not an open problem called 没有."""
    world = await bound_world(db)
    await walk_to(world, "report", "problems")
    await world.chat.say("没有。")
    assert (await conversation(db))[1] == "evidence"
    await world.chat.press("t:done")
    assert "问题：—" in world.chat.last_text()
    await world.chat.press(world.chat.confirm_data())
    async with db.transaction() as s:
        contact = await s.scalar(select(Contact))
        problems = list(await s.scalars(select(Problem.description)))
    assert contact is not None and contact.problems_raised == ""
    assert problems == ["危房改造补助还没到", "别人的问题", "孩子上学交通补助"]  # only the seeded


async def test_pairing_ended_before_saving_keeps_the_draft(db) -> None:
    """The household left my list while the card was open: told so, the draft stays."""
    world = await bound_world(db)
    await walk_to(world, "report", "confirm")
    before = await conversation(db)
    async with db.transaction() as s:
        await s.execute(
            update(Pairing)
            .where(Pairing.household_id == world.seed.households["张三"])
            .values(active=False)
        )
    replies = await world.chat.press(world.chat.confirm_data())
    assert_clear_chinese(replies, "ok after the pairing ended")
    assert "不在你的帮扶名单" in replies[0].text and "请核对" in replies[-1].text
    assert await conversation(db) == before
    assert (await saved_records(db, world.seed.cadre_id))["contact"] == 0
    await world.chat.tap("改户")
    await world.chat.tap("李四")
    assert "户主：李四" in world.chat.last_text()
    await world.chat.tap("确认保存")
    async with db.transaction() as s:
        contact = await s.scalar(select(Contact))
    assert contact is not None and contact.household_id == world.seed.households["李四"]
    assert contact.summary == before[2]["summary"]


async def test_a_price_in_a_quick_report_is_not_a_date(db) -> None:
    """ "1.2元" used to read as 1 February, so the report was refused as too old."""
    world = await bound_world(db)
    replies = await world.chat.say("给张三打了电话，玉米卖了1.2元一斤")
    assert "请核对" in texts(replies) and "日期：11月23日（周一）" in texts(replies)


async def test_da_qian_tian_is_three_days_back(db) -> None:
    world = await bound_world(db)
    await walk_to(world, "report", "date")
    await world.chat.say("大前天")
    assert (await conversation(db))[2]["date"] == "2026-11-20"


async def test_leave_until_a_leap_day_that_has_passed(db) -> None:
    """2月29日 said in March of a leap year has no next-year date: a clear answer."""
    world = await bound_world(db, now=datetime(2028, 3, 5, 9, 0, tzinfo=TZ))
    prompt = await walk_to(world, "leave", "until")
    replies = await world.chat.say("2月29日")
    assert_clear_chinese(replies, "2月29日")
    assert "看不懂这个日期" in replies[0].text and replies[-1] == prompt
    await world.chat.say("3月9日")
    await world.chat.press(world.chat.confirm_data())
    assert await leave_of(db, world.seed.cadre_id) == date(2028, 3, 9).isoformat()


async def test_resolve_with_nothing_open_opens_no_flow(db) -> None:
    """Otherwise every later message (even a quick report) hit the empty problem list."""
    world = await bound_world(db)
    await walk_to(world, "resolve", "problem")
    await world.chat.press(f"p:{world.my_problem}")
    await world.chat.say("已解决")
    await world.chat.press(world.chat.confirm_data())
    replies = await world.chat.command("resolve")
    assert len(replies) == 1 and "没有未解决的问题" in replies[0].text  # one message, no menu
    assert (await conversation(db))[:2] == ("", "")
    replies = await world.chat.say("今天给张三打了电话")
    assert "请核对" in texts(replies)


async def test_location_outside_a_report_is_explained(db) -> None:
    world = await bound_world(db)
    prompt = await walk_to(world, "diary", "done")
    replies = await world.chat.send(InboundKind.LOCATION, latitude=22.3, longitude=109.9)
    assert_clear_chinese(replies, "a location in a diary")
    assert replies[-1] == prompt


async def test_text_the_database_refuses_is_cleaned_before_it_reaches_a_draft(db) -> None:
    """A NUL (PostgreSQL refuses it) or a lone surrogate (not UTF-8) in a message used to
    sit in the draft and make every later 确认保存 fail with the internal error."""
    world = await bound_world(db)
    await walk_to(world, "report", "summary")
    await world.chat.say("讲解\x00了政策\ud83d")
    await world.chat.say("想申请\x07小额信贷")
    await world.chat.press("t:done")
    replies = await world.chat.press(world.chat.confirm_data())
    assert "已保存" in replies[0].text
    replies = await world.chat.say("今天给李四打了电话\x00，说\ud83d好")
    assert "请核对" in texts(replies)
    assert "已保存" in (await world.chat.press(world.chat.confirm_data()))[0].text
    async with db.transaction() as s:
        stored = list(await s.scalars(select(Contact.summary).order_by(Contact.id)))
        raised = await s.scalar(select(Problem.description).order_by(Problem.id.desc()))
    assert stored == ["讲解了政策\ufffd", "今天给李四打了电话，说\ufffd好"]
    assert raised == "想申请小额信贷"


async def test_a_too_long_quick_report_is_told_so(db) -> None:
    world = await bound_world(db)
    replies = await world.chat.say("今天给张三打了电话，" + "他家玉米收成不错。" * 300)
    assert_clear_chinese(replies, "a long quick report")
    assert "太长了" in replies[0].text and (await conversation(db))[:2] == ("", "")


async def test_household_pages(db) -> None:
    """Ten households: two pages; a page past the end is refused, the draft kept."""
    world = await bound_world(db)
    async with db.transaction() as s:
        extra = [
            Household(head_name=f"黄{n}", village_id=world.seed.village_id, created_at=NOW)
            for n in "甲乙丙丁戊己"
        ]
        s.add_all(extra)
        await s.flush()
        s.add_all(
            Pairing(cadre_id=world.seed.cadre_id, household_id=h.id, start_date=date(2024, 1, 1))
            for h in extra
        )
    await walk_to(world, "report", "household")
    first = [x for x in world.chat.labels() if "（旧门村）" in x]
    assert len(first) == 8 and "下一页 ▶" in world.chat.labels()
    await world.chat.tap("下一页")
    second = [x for x in world.chat.labels() if "（旧门村）" in x]
    assert len(second) == 2 and not set(first) & set(second)
    assert "◀ 上一页" in world.chat.labels() and "下一页 ▶" not in world.chat.labels()
    before = await conversation(db)
    replies = await world.chat.press("pg:2")
    assert "请点按钮选择" in replies[0].text and await conversation(db) == before
    await world.chat.tap(second[-1])
    _, step, draft = await conversation(db)
    assert (step, f"{draft['household']}（旧门村）") == ("kind", second[-1])
    assert "_page" not in draft
