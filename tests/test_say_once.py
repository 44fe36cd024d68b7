"""Say things once, the same way: an error is one message (never followed by the whole
menu), and the supervisors' group is told what /overdue lists."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.clock import FixedClock
from core.i18n import t
from core.policy import Policy
from core.types import InboundKind, Reply
from handlers.context import Context
from tests.chat import Chat
from tests.seed import seed

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)  # a Monday
MENU_TITLE = t("menu.title", "zh")


def _menu_shown(replies: list[Reply]) -> bool:
    return any(r.text == MENU_TITLE for r in replies)


@pytest.fixture
async def chat(db):
    ctx = Context(db=db, clock=FixedClock(NOW), policy=Policy())
    s = await seed(db, NOW)
    chat = Chat(ctx)
    await chat.command("start", s.code)
    return chat


async def test_errors_outside_a_flow_are_one_message_without_the_menu(chat):
    for send, says in (
        (lambda: chat.send(InboundKind.UNSUPPORTED), "看不懂这条消息"),
        (lambda: chat.command("cancel"), "当前没有进行中的填报"),
        (lambda: chat.command("resume"), "没有可以继续的草稿"),
        (lambda: chat.command("mprogress"), "还没有帮扶措施"),
    ):
        replies = await send()
        assert len(replies) == 1, [r.text for r in replies]
        assert says in replies[0].text and not _menu_shown(replies)


async def test_a_notice_that_leads_to_the_menu_is_one_message_with_its_buttons(chat):
    replies = await chat.say("嗯嗯")  # not understood: the hint carries the menu's buttons
    assert len(replies) == 1 and "请选择要做的事" in replies[0].text
    assert any("报联系" in b.label or "联系" in b.label for row in replies[0].buttons for b in row)
    await chat.command("report")
    replies = await chat.command("cancel")
    assert len(replies) == 1 and "已取消" in replies[0].text and replies[0].buttons


def test_the_group_menu_describes_overdue_as_what_it_lists():
    for lang in ("zh", "en"):
        lists = t("digest.overdue_none", lang, unit="X")  # what /overdue answers with
        said = t("telegram_menu.overdue", lang)
        assert said.lower() in lists.lower() or said in t(
            "digest.overdue_title", lang, unit="X", total=1
        )
        assert said.lower() in t("group.help", lang, unit="X").lower()


# --- item by item on a bound cadre with an open problem and a help measure -----------------

NEXT_STEPS = ["📝 报告联系", "🏠 我的", "↩️ 撤销上一条"]
# What the undo must name, per flow (the walk's own answers in tests/flowkit.py).
UNDONE = {
    "report": ("已撤销", "张三", "入户走访"),
    "diary": ("已撤销", "民情日记"),
    "event": ("已撤销", "张三"),
    "problem": ("已撤销", "想申请小额信贷"),
    "measure": ("已撤销", "发展养牛2头", "张三"),
    "deed": ("已撤销", "帮助申请危房改造补助", "张三"),
    "resolve": ("已撤销销号", "危房改造补助还没到"),
}


@pytest.fixture
async def world(db):
    from tests.flowkit import bound_world

    return await bound_world(db)


@pytest.mark.parametrize("flow", list(UNDONE))
async def test_every_save_ends_with_the_same_next_steps_and_undo_names_the_record(world, flow):
    from tests.flowkit import walk_from, walk_to

    await walk_to(world, flow, "confirm")
    saved = (await walk_from(world, flow, "confirm"))[0]
    assert "✅" in saved.text or "已" in saved.text
    assert [b.label for b in saved.buttons[-1]] == NEXT_STEPS, saved
    undone = (await world.chat.command("undo"))[-1].text
    assert all(word in undone for word in UNDONE[flow]), undone


@pytest.mark.parametrize("flow", ["progress", "mprogress", "plan"])
async def test_a_save_that_cannot_be_undone_ends_with_the_same_steps_but_undo(world, flow):
    from tests.flowkit import walk_from, walk_to

    await walk_to(world, flow, "confirm")
    saved = (await walk_from(world, flow, "confirm"))[0]
    assert [b.label for b in saved.buttons[-1]] == NEXT_STEPS[:2], saved


async def test_the_evidence_step_has_one_way_on(world):
    from tests.flowkit import walk_to

    prompt = await walk_to(world, "report", "evidence")
    ways = [b.label for row in prompt.buttons for b in row if b.label != "取消"]
    assert ways == ["完成"] and "跳过" not in prompt.text
    replies = await world.chat.send(InboundKind.PHOTO, photo_ref="AgADphoto-1")
    ways = [b.label for row in replies[-1].buttons for b in row if b.label != "取消"]
    assert ways == ["完成"]
    replies = await world.chat.say("跳过")  # the word for either button goes on the same way
    assert "请核对" in replies[-1].text and "照片 1 张" in replies[-1].text


async def test_typing_done_without_evidence_goes_on_like_skip(world):
    from tests.flowkit import walk_to

    await walk_to(world, "report", "evidence")
    replies = await world.chat.say("完成")
    assert "请核对" in replies[-1].text


async def test_a_report_opened_from_a_reminder_button_names_the_household(world):
    from core.buttons import ReportFor

    replies = await world.chat.press(ReportFor(world.seed.households["陈美玲"]).pack())
    assert len(replies) == 1 and "陈美玲" in replies[0].text


@pytest.mark.parametrize("flow", ["problem", "deed"])
async def test_cards_write_days_in_the_one_form(world, flow):
    from tests.flowkit import walk_to

    card = (await walk_to(world, flow, "confirm")).text
    assert re.search(r"\d{1,2}月\d{1,2}日（周[一二三四五六日]）", card), card
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\b\d{2}-\d{2}\b", card), card


async def test_one_day_form_on_the_card_in_mine_and_in_the_undo(world):
    from tests.flowkit import walk_from, walk_to

    card = (await walk_to(world, "report", "confirm")).text
    day = "11月22日（周日）"  # the walk's 昨天; the world's today is Monday 23 November
    assert f"日期：{day}" in card
    await walk_from(world, "report", "confirm")
    mine = "\n".join(r.text for r in await world.chat.command("mine"))
    assert day in mine
    undone = (await world.chat.command("undo"))[-1].text
    assert f"已撤销：{day}入户走访 张三" in undone
