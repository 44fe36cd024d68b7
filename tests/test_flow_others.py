"""Diary, events, problems, leave, 我的, groups, language: what a cadre and a group see."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.policy import Policy
from core.types import Reply
from handlers.context import Context
from storage.models import Cadre, DiaryEntry, Event, Problem, SupervisorGroup
from tests.chat import Chat, texts
from tests.seed import seed

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


class FakeGroupCommands:
    """Records which unit the group asked about."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    async def digest(self, unit_id: int, lang: str) -> list[Reply]:
        self.asked.append(("digest", unit_id))
        return [Reply(f"digest {unit_id}")]

    async def overdue(self, unit_id: int, lang: str) -> list[Reply]:
        self.asked.append(("overdue", unit_id))
        return [Reply(f"overdue {unit_id}")]


@pytest.fixture
async def world(db):
    clock = FixedClock(NOW)
    ctx = Context(db=db, clock=clock, policy=Policy(), group_commands=FakeGroupCommands())
    s = await seed(db, NOW)
    chat = Chat(ctx)
    await chat.command("start", s.code)
    return ctx, s, chat


async def one(db, model):
    async with db.transaction() as s:
        return await s.scalar(select(model))


async def leave_until(db, cadre_id):
    async with db.transaction() as s:
        return (await s.get(Cadre, cadre_id)).leave_until


async def test_diary_with_opinions(world, db):
    _, s, chat = world
    await chat.command("diary")
    await chat.tap("李四")
    await chat.say("走访李四，帮他联系了收购商")
    await chat.tap("跳过")
    await chat.say("建议村里修路")
    await chat.tap("县委决策部署")  # 保康's 五联日记 asks about the county's decisions too
    await chat.tap("政策落实")
    await chat.tap("民生大事")
    await chat.tap("完成")
    await chat.say("希望低保评定更公开")
    assert "民意类别：县委决策部署、政策落实、民生大事" in chat.last_text()
    await chat.tap("确认保存")
    entry = await one(db, DiaryEntry)
    assert entry.household_id == s.households["李四"] and entry.seen == ""
    assert entry.opinion_topics == ["decisions", "policy", "livelihood"]
    assert entry.opinion == "希望低保评定更公开"


async def test_diary_without_topics_skips_the_opinion(world, db):
    _, _, chat = world
    await chat.command("diary")
    await chat.tap("不针对某一户")
    await chat.say("参加村民大会")
    await chat.tap("跳过")
    await chat.tap("跳过")
    await chat.tap("完成")
    assert "请核对民情日记" in chat.last_text()
    await chat.tap("确认保存")
    entry = await one(db, DiaryEntry)
    assert entry.household_id is None and entry.opinion_topics == []


async def test_event_creates_a_visit_deadline(world, db):
    _, _s, chat = world
    await chat.command("event")
    await chat.tap("王小明")
    await chat.tap("大病")
    await chat.tap("前天")
    await chat.say("住院做手术")
    await chat.tap("确认保存")
    assert "请在11月28日（周六）前入户走访" in chat.last_text()
    event = await one(db, Event)
    assert event.kind == "illness" and event.visit_due_on == date(2026, 11, 28)


async def test_problem_recorded_then_resolved(world, db):
    _, _s, chat = world
    await chat.command("problem")
    await chat.tap("陈美玲")
    await chat.tap("住房")
    await chat.say("顿谷镇")
    await chat.tap("按规定")
    await chat.say("房屋漏雨需要维修")
    await chat.tap("确认保存")
    await chat.command("resolve")
    assert "未解决的问题 1 个" in chat.last_text()
    await chat.tap("陈美玲·住房")
    await chat.say("协调危房改造资金修好了")
    await chat.tap("确认保存")
    assert "已销号" in chat.last_text() and "回访" in chat.last_text()
    problem = await one(db, Problem)
    assert problem.status == "resolved" and problem.resolution.startswith("协调危房")
    assert problem.stage == "done" and problem.category == "住房"
    assert "没有未解决" in texts(await chat.command("resolve"))


async def test_someone_elses_problem_cannot_be_closed(world, db):
    _, s, chat = world
    async with db.transaction() as session:
        session.add(
            Problem(
                household_id=s.other_household_id,
                cadre_id=s.other_cadre_id,
                description="别人的问题",
                raised_on=NOW.date(),
                created_at=NOW,
            )
        )
    await chat.command("problem")
    await chat.tap("张三")
    await chat.tap("产业")
    await chat.say("顿谷镇")
    await chat.tap("按规定")
    await chat.say("缺少种苗")
    await chat.tap("确认保存")
    await chat.command("resolve")
    replies = await chat.press("p:1")  # the other cadre's problem id
    assert "不是你的" in texts(replies)


async def test_leave_and_back(world, db):
    _, s, chat = world
    await chat.command("leave")
    assert "不能" not in texts(await chat.say("5天"))
    await chat.tap("确认保存")
    assert "11月28日（周六）" in chat.last_text()
    assert await leave_until(db, s.cadre_id) == date(2026, 11, 28)
    await chat.command("back")
    assert "已销假" in chat.last_text()
    assert await leave_until(db, s.cadre_id) is None


async def test_leave_refuses_the_past(world):
    _, _, chat = world
    await chat.command("leave")
    assert "今天到" in texts(await chat.say("2026-11-01"))


async def test_mine_lists_households_and_what_is_due(world):
    _ctx, _, chat = world
    await chat.say("今天去张三家走访")
    await chat.tap("确认保存")
    await chat.say("昨天给李四打了电话")
    await chat.tap("确认保存")
    text = texts(await chat.command("mine"))
    assert "我的帮扶户 4 户 · 本月待联系 2 · 本季待走访 3" in text
    line = next(x for x in text.splitlines() if x.startswith("张三"))
    assert "走访 11月23日（周一）" in line and "待" not in line
    assert "电话 无 走访 无" in next(x for x in text.splitlines() if x.startswith("王小明"))


async def test_group_binds_with_code_and_gets_only_its_unit(world, db):
    ctx, s, _ = world
    group = Chat(ctx, account="777", group="-100123")
    assert "还没有绑定" in texts(await group.command("digest"))
    assert await group.say("大家好") == []
    replies = await group.command("bind", s.group_code)
    assert "博白县/顿谷镇" in texts(replies)
    await group.command("digest")
    unit_id = (await one(db, SupervisorGroup)).unit_id
    assert ctx.group_commands.asked == [("digest", unit_id)]
    replies = await Chat(ctx, account="778", group="-100999").command("bind", s.group_code)
    assert "已经用过" in texts(replies)


async def test_codes_expire_and_are_single_use(db):
    clock = FixedClock(NOW)
    ctx = Context(db=db, clock=clock, policy=Policy())
    s = await seed(db, NOW)
    clock.advance(timedelta(hours=73))
    assert "过期" in texts(await Chat(ctx, account="1").command("start", s.code))
    clock.advance(timedelta(hours=-72))
    assert "绑定成功" in texts(await Chat(ctx, account="2").command("start", s.code))
    assert "用过" in texts(await Chat(ctx, account="3").command("start", s.code))
    assert "不对" in texts(await Chat(ctx, account="4").command("start", "NOPE123456"))


async def test_language_switch_to_english(world):
    _, _, chat = world
    await chat.command("lang", "en")
    assert "English" in chat.last_text()
    await chat.command("report")
    assert "Choose a household" in chat.last_text()
