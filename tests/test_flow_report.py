"""The contact report, step by step, as a cadre would do it from a phone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.clock import FixedClock
from core.policy import Policy
from handlers.context import Context
from storage.models import Contact, Problem
from tests.chat import Chat, texts
from tests.seed import seed

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@pytest.fixture
async def world(db):
    clock = FixedClock(NOW)
    ctx = Context(db=db, clock=clock, policy=Policy())
    s = await seed(db, NOW)
    chat = Chat(ctx)
    await chat.command("start", s.code)
    return ctx, s, chat, clock


async def contacts(db) -> list[Contact]:
    async with db.transaction() as s:
        return list(await s.scalars(select(Contact).order_by(Contact.id)))


async def test_unbound_account_sees_only_an_explanation(db):
    ctx = Context(db=db, clock=FixedClock(NOW), policy=Policy())
    await seed(db, NOW)
    stranger = Chat(ctx, account="999")
    for attempt in (stranger.say("我的"), stranger.command("report"), stranger.press("h:1")):
        replies = await attempt
        assert len(replies) == 1 and "绑定" in replies[0].text and not replies[0].buttons


async def test_enrol_then_report_a_visit_by_buttons(world, db):
    _, s, chat, _ = world
    assert "绑定成功" in chat.log[0].text
    await chat.tap("报告联系")
    assert "选择帮扶户" in chat.last_text()
    await chat.tap("张三")
    await chat.tap("入户走访")
    await chat.tap("昨天")
    await chat.tap("政策上帮")
    assert "✅ 政策上帮" in chat.labels()
    await chat.tap("销路上帮")
    await chat.tap("完成")
    await chat.say("了解了玉米收成，讲解了产业奖补政策")
    await chat.say("想申请小额信贷")
    await chat.tap("完成")
    assert "请核对" in chat.last_text() and "张三" in chat.last_text()
    await chat.tap("确认保存")
    assert "已保存" in chat.last_text()
    [c] = await contacts(db)
    assert (c.kind, c.occurred_on, c.household_id) == (
        "visit",
        date(2026, 11, 22),
        s.households["张三"],
    )
    assert c.help_tags == ["政策", "销路"] and c.summary.startswith("了解了玉米")
    async with db.transaction() as session:
        problem = await session.scalar(select(Problem))
        assert problem is not None and problem.description == "想申请小额信贷"


async def test_quick_report_in_one_line(world, db):
    _, s, chat, _ = world
    await chat.say("今天给张叁打了电话，他家玉米收成不错")
    text = chat.last_text()
    assert "张三" in text and "电话联系" in text and "今天（11月23日，周一）" in text
    await chat.tap("确认保存")
    [c] = await contacts(db)
    assert c.kind == "call" and c.household_id == s.households["张三"]
    assert c.summary == "今天给张叁打了电话，他家玉米收成不错"


async def test_someone_elses_household_is_refused_and_draft_kept(world, db):
    _, s, chat, _ = world
    await chat.tap("报告联系")
    replies = await chat.press(f"h:{s.other_household_id}")
    assert "不在你的帮扶名单" in texts(replies)
    assert "选择帮扶户" in replies[-1].text
    replies = await chat.say("赵六")
    assert "没有「赵六」" in texts(replies)
    await chat.tap("李四")
    assert "联系方式" in chat.last_text()
    replies = await chat.say("昨天去了赵六家走访")  # a stranger by quick report later
    assert "没看出选的是哪一项" in texts(replies)  # not taken as 李四's means of contact


async def test_dates_future_and_too_old_are_refused(world):
    _, _, chat, _ = world
    await chat.tap("报告联系")
    await chat.tap("张三")
    await chat.tap("电话联系")
    assert "不能是将来" in texts(await chat.say("2026-11-25"))
    assert "最近 7 天" in texts(await chat.say("11月1日"))
    # Not one day: asked with the likely days, never taken as today.
    replies = await chat.say("前几天吧")
    assert "「前几天」不是具体的某一天" in texts(replies)
    assert "day:2026-11-22" in [b.data for row in replies[-1].buttons for b in row]
    await chat.say("11月20日")
    assert "六帮" in chat.last_text()


async def test_garbage_at_every_step_keeps_the_draft(world, db):
    _, _, chat, _ = world
    from core.types import InboundKind

    await chat.tap("报告联系")
    steps = ["张三", "入户走访", "今天", "完成"]
    for label in steps:
        before = chat.last_text()
        replies = await chat.send(InboundKind.UNSUPPORTED)
        assert "看不懂" in replies[0].text and replies[-1].text == before
        replies = await chat.say("x" * 5000)
        assert replies[-1].text == before
        await chat.tap(label)
    replies = await chat.say("y" * 5000)
    assert "太长了" in replies[0].text
    await chat.say("送去了慰问品")
    await chat.tap("跳过")
    await chat.tap("完成")  # the evidence step's one way on, with or without a photo
    await chat.tap("确认保存")
    [c] = await contacts(db)
    assert c.summary == "送去了慰问品"


async def test_redelivered_message_is_stored_once(world, db):
    _, _, chat, _ = world
    await chat.say("今天去张三家走访，看了新房", message_id="dup-1")
    await chat.tap("确认保存")
    again = await chat.say("今天去张三家走访，看了新房", message_id="dup-1")
    assert again == []
    ok = chat.log[-1]
    assert "已保存" in ok.text
    async with db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Contact)) == 1


async def test_draft_survives_a_restart(world, db):
    _, _, chat, clock = world
    await chat.tap("报告联系")
    await chat.tap("王小明")
    # A new process: new context, new engine objects, same database.
    ctx2 = Context(db=db, clock=clock, policy=Policy())
    chat2 = Chat(ctx2, account=chat.account)
    chat2.log = list(chat.log)
    await chat2.tap("电话联系")
    assert "哪天" in chat2.last_text()


async def test_idle_draft_expires_politely_and_can_resume(world):
    _, _, chat, clock = world
    await chat.tap("报告联系")
    await chat.tap("陈美玲")
    clock.advance(timedelta(minutes=45))
    replies = await chat.say("你好")
    assert "已超过 30 分钟" in replies[0].text
    assert replies[0].buttons[0][0].label == "继续上次的草稿"
    await chat.press(replies[0].buttons[0][0].data)
    assert "联系方式" in chat.last_text()


async def test_cancel_and_help_at_a_step(world):
    _, _, chat, _ = world
    await chat.tap("报告联系")
    await chat.tap("张三")
    replies = await chat.command("help")
    assert "/cancel" in replies[0].text and "联系方式" in replies[-1].text
    replies = await chat.say("取消")
    assert "已取消" in replies[0].text


async def test_undo_and_correct_the_last_record(world, db):
    _, _, chat, clock = world
    await chat.say("今天给李四打了电话")
    await chat.tap("确认保存")
    await chat.command("correct")
    assert "请核对" in chat.last_text()
    await chat.tap("改日期")
    await chat.tap("昨天")
    assert "日期：11月22日（周日）" in chat.last_text()
    await chat.tap("确认保存")
    live = [c for c in await contacts(db) if c.deleted_at is None]
    assert [c.occurred_on for c in live] == [date(2026, 11, 22)]
    clock.advance(timedelta(minutes=31))
    assert "没有可撤销" in texts(await chat.command("undo"))
    clock.advance(timedelta(minutes=-30))
    await chat.say("今天给陈美玲打了电话")
    await chat.tap("确认保存")
    assert "已撤销" in texts(await chat.command("undo"))
    live = [c for c in await contacts(db) if c.deleted_at is None]
    assert len(live) == 1


async def test_a_plan_is_not_saved_as_a_report(world, db):
    _, _, chat, _ = world
    replies = await chat.say("明天去李四家走访")
    assert "计划" in replies[0].text
    assert await contacts(db) == []


async def test_writing_again_clears_a_blocked_account(world, db):
    from sqlalchemy import update

    from storage.models import ChatAccount

    _, _, chat, _ = world
    async with db.transaction() as s:
        await s.execute(update(ChatAccount).values(blocked_at=NOW))
    await chat.command("mine")
    async with db.transaction() as s:
        account = await s.scalar(select(ChatAccount))
        assert account is not None and account.blocked_at is None


async def test_after_a_save_the_next_steps_are_one_tap_away(world, db):
    _, _, chat, _ = world
    await chat.say("今天给李四打了电话")
    await chat.tap("确认保存")
    assert chat.labels() == ["📝 报告联系", "🏠 我的", "↩️ 撤销上一条"]
    await chat.tap("撤销上一条")
    assert "已撤销" in chat.last_text()
    assert [c for c in await contacts(db) if c.deleted_at is None] == []


async def test_an_older_cards_confirm_cannot_save_the_open_draft(world, db):
    _, _, chat, _ = world
    await chat.say("今天给李四打了电话")
    old_ok = chat.confirm_data()
    await chat.command("cancel")
    await chat.say("今天去张三家走访")
    replies = await chat.press(old_ok)
    assert "已失效" in replies[0].text and "请核对" in replies[-1].text
    assert await contacts(db) == []
    await chat.tap("确认保存")
    [c] = await contacts(db)
    assert c.kind == "visit"
