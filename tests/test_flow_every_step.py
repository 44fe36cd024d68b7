"""At each step of each flow, bad input gets a clear answer and the draft stays intact.

Table-driven: every flow is walked with valid inputs to each of its steps; there every bad
input of the table is sent; each must be answered in Chinese with the step's prompt shown
again, and the conversation row (flow, step, draft) read back from the database must be
exactly what it was. Then the flow is completed and the record is stored. /help, 帮助,
菜单 and another flow's command must leave the draft alone the same way; at every step
/cancel drops the draft and saves nothing, and an idle draft expires and resumes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.db import Database
from tests.flowkit import (
    DUE,
    TEXT,
    UNTIL,
    WALKS,
    Act,
    Stage,
    Walk,
    World,
    assert_clear_chinese,
    bound_world,
    conversation,
    do,
    leave_of,
    press,
    say,
    walk_from,
    walk_to,
)
from tests.flowkit import saved_records as records

FUTURE = "2026-11-24"  # tomorrow at NOW
LONG = "测" * 5000
GARBAGE = "ｑ#@!～%…&*（）ヽ(ﾟ∀ﾟ)ﾉ"


def bad_inputs(stage: Stage, walk: Walk) -> list[tuple[str, Act, str]]:
    """The bad inputs at a step: (name, input, text the explanation must contain)."""
    step, kind = stage.step, stage.kind
    bad = [
        ("sticker", Act("sticker"), "看不懂这条消息"),
        ("5000 characters", say(LONG), "太长了" if kind == TEXT else ""),
        ("someone else's household", press("h:{other}"), "不在你的" if step == "household" else ""),
        (
            "someone else's problem",
            press("p:{other_problem}"),
            "不是你的" if step == "problem" else "",
        ),
        ("stale button", press("zz:7f3a9c"), ""),
        ("malformed page", press("pg:abc"), ""),
        ("absurd page", press("pg:99999999999999999999"), ""),
        ("huge household id", press("h:99999999999999999999999"), ""),
        ("non-ascii digit household id", press("h:²"), ""),
        ("absurd day offset", press("d:99999999"), "最近" if step == "date" else ""),
        ("unknown edit", press("e:nope"), ""),
        ("expired code while bound", Act("command", "start", "EXPIRED42"), "已绑定"),
        # not bad, but must not disturb the draft either
        ("/help", Act("command", "help"), "随时发送 /cancel 取消"),
        ("帮助 typed", say("帮助"), "随时发送 /cancel 取消"),
        ("菜单 typed", say("菜单"), "未完成的"),
        (
            "another flow's command",
            Act("command", "diary" if walk.start.value != "diary" else "event"),
            "未完成的",
        ),
    ]
    if kind != TEXT:  # at a free-text step a date or odd text is a fine answer
        if kind == UNTIL:
            bad.append(("far future date", say("2030-01-01"), "请假日期要在"))
        elif kind != DUE:  # at a deadline, the dates are APPEAL_BAD's
            bad.append(("future date", say(FUTURE), "不能是将来" if step == "date" else ""))
        bad.append(("garbage", say(GARBAGE), ""))
        bad.append(("blank text", say("   "), ""))
    if not walk.photo_is_evidence:
        bad.append(("photo", Act("photo", "AgADphoto1"), ""))
    bad += APPEAL_BAD.get(step, [])
    return bad


# The appeal's own steps: a category not in the policy, a unit not in the tree, a deadline
# already past or beyond the policy's limit, another cadre's settled appeal.
APPEAL_BAD: dict[str, list[tuple[str, Act, str]]] = {
    "category": [("wrong category", say("火星移民"), "没有这个类别")],
    "unit": [
        ("unknown unit", say("县宇宙局"), "找不到单位"),
        ("forged unit button", press("u:99999"), ""),
    ],
    "due": [
        ("deadline in the past", say("2026-11-01"), "期限不能是今天或已经过去"),
        ("deadline today", say("今天"), ""),
        ("deadline too far", say("2030-01-01"), "期限最长"),
    ],
    "satisfaction": [("unknown answer", say("还行吧"), "")],
    "kinds": [
        ("unknown help kind", say("火星帮"), "没有这类帮扶"),
        ("none chosen", press("k:done"), ""),
    ],
    "value": [("not an amount", say("很多钱"), "请输入金额")],
    "target": [("absurd amount", say("99999999999"), "请输入金额")],
    "measure": [("someone else's measure", press("ms:99999"), "不在你的帮扶户计划里")],
}


async def check_finished(name: str, world: World, db: Database) -> None:
    """The flow's record is stored: exactly one new one."""
    got = await records(db, world.seed.cadre_id)
    expected = {
        "contact": 0,
        "diary": 0,
        "event": 0,
        "problem": 2,
        "resolved": 1,
        "notes": 1,
        "followed": 0,
        "measure": 1,
        "mprogress": 0,
        "deed": 0,
        "plan": 0,
    }
    if name == "leave":
        assert await leave_of(db, world.seed.cadre_id) == "2026-11-28"
    elif name in ("measure", "mprogress", "deed", "plan"):
        expected[name] += 1
    elif name in ("resolve", "progress", "followup"):
        expected["notes"] += 1
        expected["resolved"] += name == "resolve"
        expected["followed"] += name == "followup"
    else:
        expected[{"report": "contact"}.get(name, name)] += 1
    assert got == expected


CASES = [(name, i) for name, walk in WALKS.items() for i in range(len(walk.stages))]


@pytest.mark.parametrize(
    ("flow", "index"), CASES, ids=[f"{f}-{WALKS[f].stages[i].step}" for f, i in CASES]
)
async def test_bad_input_at_every_step_keeps_the_draft(db, flow: str, index: int) -> None:
    world = await bound_world(db)
    walk = WALKS[flow]
    stage = walk.stages[index]
    prompt = await walk_to(world, flow, stage.step)
    before = await conversation(db)
    assert before[:2] == (flow, stage.step)

    for what, act, expected in bad_inputs(stage, walk):
        label = f"{what} at {flow}/{stage.step}"
        replies = await do(world, act)
        assert_clear_chinese(replies, label)
        assert len(replies) >= 2, f"no explanation for {label}: {replies}"
        assert replies[-1] == prompt, f"prompt not shown again after {label}"
        explanation = "\n".join(r.text for r in replies[:-1])
        assert prompt.text not in explanation, f"no explanation for {label}"
        assert expected in explanation, f"{label}: {explanation!r} lacks {expected!r}"
        assert await conversation(db) == before, f"draft changed by {label}"

    assert_clear_chinese(await walk_from(world, flow, stage.step), f"finishing {flow}")
    assert (await conversation(db))[:2] == ("", "")
    await check_finished(flow, world, db)


@pytest.mark.parametrize(
    ("flow", "index"), CASES, ids=[f"{f}-{WALKS[f].stages[i].step}" for f, i in CASES]
)
async def test_an_idle_draft_expires_and_resumes_at_every_step(db, flow: str, index: int) -> None:
    """Left for longer than the idle limit, a draft is put aside politely and comes back."""
    world = await bound_world(db)
    stage = WALKS[flow].stages[index]
    prompt = await walk_to(world, flow, stage.step)
    before = await conversation(db)
    world.clock.advance(timedelta(minutes=world.ctx.policy.draft_idle_minutes + 1))

    replies = await do(world, Act("sticker"))
    assert_clear_chinese(replies, f"a sticker to an expired {flow}/{stage.step}")
    notice = replies[0]
    assert "已超过 30 分钟未操作" in notice.text
    # Then the sticker's own answer: one message, not followed by the whole menu.
    assert [r.text for r in replies[1:]] == [
        "看不懂这条消息（贴纸、语音、文件等暂不支持），请发文字或点按钮。"
    ]
    assert (await conversation(db))[:2] == ("", "")
    [[resume]] = notice.buttons
    assert resume.label == "继续上次的草稿"
    replies = await world.chat.press(resume.data)
    assert replies[-1] == prompt
    assert await conversation(db) == before
    await walk_from(world, flow, stage.step)
    await check_finished(flow, world, db)


@pytest.mark.parametrize(
    ("flow", "index"), CASES, ids=[f"{f}-{WALKS[f].stages[i].step}" for f, i in CASES]
)
async def test_cancel_at_every_step_drops_the_draft_and_saves_nothing(
    db, flow: str, index: int
) -> None:
    world = await bound_world(db)
    before = await records(db, world.seed.cadre_id)
    await walk_to(world, flow, WALKS[flow].stages[index].step)
    replies = await world.chat.command("cancel")
    assert_clear_chinese(replies, f"/cancel in {flow}")
    assert "已取消" in replies[0].text and replies[-1].buttons
    assert await conversation(db) == ("", "", {})
    assert await records(db, world.seed.cadre_id) == before
    assert await leave_of(db, world.seed.cadre_id) == ""


async def test_photo_at_any_report_step_is_kept_as_evidence(db) -> None:
    """A contact report takes a photo at any step: the step stays, the photo joins the draft."""
    world = await bound_world(db)
    walk = WALKS["report"]
    await do(world, walk.start)
    photos: list[str] = []
    for n, stage in enumerate(walk.stages):
        ref = f"AgADphoto{n}"
        before = await conversation(db)
        replies = await do(world, Act("photo", ref))
        assert_clear_chinese(replies, f"photo at report/{stage.step}")
        photos.append(ref)
        flow, step, draft = await conversation(db)
        assert (flow, step) == before[:2] and draft.pop("photos") == photos
        assert draft == {k: v for k, v in before[2].items() if k != "photos"}
        for act in stage.go:
            await do(world, act)
    assert (await records(db, world.seed.cadre_id))["contact"] == 1


async def test_one_photo_too_many_is_refused_politely(db) -> None:
    """The tenth photo, sent before the evidence step, gets a clear limit, not an error."""
    world = await bound_world(db)
    await do(world, Act("command", "report"))
    for n in range(9):
        await do(world, Act("photo", f"AgADphoto{n}"))
    before = await conversation(db)
    replies = await do(world, Act("photo", "AgADphoto9"))
    assert_clear_chinese(replies, "a tenth photo")
    assert "9" in replies[0].text
    assert await conversation(db) == before


async def test_old_code_from_a_bound_cadre_is_explained(db) -> None:
    world = await bound_world(db)
    replies = await do(world, Act("command", "start", "EXPIRED42"))
    assert_clear_chinese(replies, "an old code")
    assert "已绑定为王建国" in replies[0].text and replies[-1].buttons  # then the menu
