"""An appeal's whole life through the real Telegram adapter and the fake Bot API.

Raised by chat (category, handling unit typed by name, the policy's deadline), progress noted,
overdue → named once in the supervisors' group (through the outbox and the dispatcher),
settled, called back: 不满意 reopens it with a new deadline (escalated once more when that
lapses too), 满意 closes it. /overdue in the group lists it with the household's name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import DispatchSettings, ScheduleSettings
from bot.dispatch import Dispatcher
from bot.run import start
from core.clock import FixedClock
from core.types import Channel
from reminders.escalate import run_escalation
from storage.models import Problem, ProblemNote, Unit
from storage.people import bind_group
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgChat, TgUser
from tests.seed import seed
from tests.tg_support import Phone, bot_settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
CADRE = TgUser(880001, "王建国")
GROUP = TgChat(-1007001, "group", "顿谷镇督导群")
SUPERVISOR = TgUser(880009, "督导")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def the_appeal(db) -> Problem:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        [p] = list(await s.scalars(select(Problem)))
        return p


async def escalate_and_send(rt, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    await run_escalation(rt.db, clock.now(), rt.settings.policy)
    sender = rt.senders[Channel.TELEGRAM]
    await Dispatcher(rt.db, [sender], settings=DispatchSettings(), clock=clock).run_once()


async def test_appeal_raised_escalated_once_settled_reopened_and_closed(tg, db) -> None:
    s = await seed(db, NOW)
    async with db.transaction() as session:
        town = await session.scalar(select(Unit.id).where(Unit.path == "博白县/顿谷镇"))
        assert town is not None
        await bind_group(
            session,
            channel="telegram",
            chat_id=str(GROUP.id),
            unit_id=town,
            title="督导群",
            now=NOW,
        )
    clock = FixedClock(NOW)
    settings = bot_settings(tg, poll_timeout=1).model_copy(
        update={"schedule": ScheduleSettings(enabled=False)}
    )
    rt = await start(settings, db=db, clock=clock)
    phone = Phone(tg, rt, CADRE)
    group = Phone(tg, rt, SUPERVISOR, GROUP)
    try:
        await phone.command("start", s.code)
        await phone.command("problem")
        assert "诉求类别" in (await phone.tap("张三"))[-1]
        assert "由哪个单位办理" in (await phone.tap("住房"))[-1]
        assert "办理期限" in (await phone.say("顿谷镇"))[-1]
        await phone.tap("按规定")
        await phone.say("房屋漏雨需要维修")
        saved = await phone.tap("确认")
        assert any("诉求已受理，由顿谷镇办理，期限 12月23日（周三）" in t for t in saved)

        await phone.command("progress")
        await phone.tap("张三·住房")
        await phone.say("已报镇村建站查看")
        assert any("进展已记录" in t for t in await phone.tap("确认"))
        assert (await the_appeal(db)).stage == "handling"

        # The day after the deadline (09:30, outside quiet hours): the group hears of it once.
        clock.set(datetime(2026, 12, 24, 9, 30, tzinfo=TZ))
        await escalate_and_send(rt, clock)
        clock.advance(timedelta(days=1))
        await escalate_and_send(rt, clock)
        told = [t for t in tg.texts(GROUP.id) if "张三" in t]
        assert len(told) == 1, told
        assert "王建国" in told[0] and "住房" in told[0] and "顿谷镇办理" in told[0]

        overdue = await group.command("overdue")
        assert any("逾期未办结的诉求 1 件" in t and "张三·住房" in t for t in overdue)

        await phone.command("resolve")
        assert any("张三·住房" in b for b in labels(tg, CADRE.id))
        await phone.tap("张三·住房")
        await phone.say("已维修屋顶")
        settled = await phone.tap("确认")
        assert any("请给张三打电话回访" in t for t in settled)
        assert (await the_appeal(db)).stage == "done"

        # The call-back: not satisfied → reopened, handled again, with a new deadline.
        assert "群众满意吗" in (await phone.tap("记录回访"))[-1]
        await phone.tap("不满意")
        await phone.say("下雨还漏")
        reopened = await phone.tap("确认")
        assert any("重新打开" in t for t in reopened)
        appeal = await the_appeal(db)
        assert (appeal.stage, appeal.status, appeal.round) == ("handling", "open", 1)
        assert appeal.due_on == date(2026, 12, 25) + timedelta(days=30)
        assert appeal.satisfaction == "不满意"

        # Its new deadline lapses too: a second, single escalation for the new round.
        clock.set(datetime(2027, 1, 26, 10, 0, tzinfo=TZ))
        await escalate_and_send(rt, clock)
        await escalate_and_send(rt, clock)
        assert len([t for t in tg.texts(GROUP.id) if "张三" in t and "逾期提醒" in t]) == 2

        await phone.command("resolve")
        await phone.tap("张三·住房")
        await phone.say("换了新瓦")
        await phone.tap("确认")
        await phone.tap("记录回访")
        await phone.tap("满意")
        await phone.tap("跳过")
        closed = await phone.tap("确认")
        assert any("回访已记录" in t for t in closed)
        appeal = await the_appeal(db)
        assert (appeal.stage, appeal.status, appeal.satisfaction) == (
            "followed",
            "resolved",
            "满意",
        )
        async with db.transaction() as session:
            kinds = list(await session.scalars(select(ProblemNote.kind).order_by(ProblemNote.id)))
        assert kinds == ["progress", "done", "reopen", "done", "followup"]
        assert "没有待回访的诉求" in (await phone.command("followup"))[0]
    finally:
        await rt.stop()


def labels(tg: FakeTelegram, chat_id: int) -> list[str]:
    out = []
    for msg in tg.sent(chat_id):
        for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
            out += [b["text"] for b in row]
    return out
