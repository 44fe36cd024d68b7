"""Issue 2: at each step of each flow, bad input gets a clear answer and the draft stays intact.

Table-driven: every flow is walked with valid inputs to each of its steps; there every bad
input of the table is sent; each must be answered in Chinese with the step's prompt shown
again, and the conversation row (flow, step, draft) read back from the database must be
exactly what it was. Then the flow is completed and the record is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.types import InboundKind, Reply
from storage.db import Database
from tests.chat import Chat
from tests.flowkit import World, assert_clear_chinese, bound_world, conversation, leave_of
from tests.flowkit import saved_records as records


@dataclass(frozen=True)
class Act:
    """One thing the cadre does; values may name {mine}, {other}, {problem}, {other_problem}."""

    kind: str  # say | press | command | sticker | photo
    value: str = ""
    args: str = ""


def say(text: str) -> Act:
    return Act("say", text)


def press(data: str) -> Act:
    return Act("press", data)


async def do(world: World, act: Act) -> list[Reply]:
    chat: Chat = world.chat
    value = act.value.format(
        mine=world.seed.households["张三"],
        other=world.seed.other_household_id,
        problem=world.my_problem,
        other_problem=world.other_problem,
    )
    if act.kind == "say":
        return await chat.say(value)
    if act.kind == "press":
        return await chat.press(value)
    if act.kind == "command":
        return await chat.command(value, act.args)
    if act.kind == "photo":
        return await chat.send(InboundKind.PHOTO, photo_ref=value)
    return await chat.send(InboundKind.UNSUPPORTED)


# Step kinds: which bad inputs are really bad there (a date typed at a free-text step is
# a fine summary; a photo is evidence anywhere in a contact report).
TEXT = "text"
PICK = "pick"
UNTIL = "until"


@dataclass(frozen=True)
class Stage:
    step: str
    kind: str
    go: tuple[Act, ...]  # valid input that moves past this step


@dataclass(frozen=True)
class Walk:
    start: Act
    stages: tuple[Stage, ...]
    photo_is_evidence: bool = False


OK = (press("ok"),)
WALKS: dict[str, Walk] = {
    "report": Walk(
        Act("command", "report"),
        (
            Stage("household", PICK, (press("h:{mine}"),)),
            Stage("kind", PICK, (press("c:visit"),)),
            Stage("date", PICK, (press("d:1"),)),
            Stage("tags", PICK, (press("t:政策"), press("t:done"))),
            Stage("summary", TEXT, (say("讲解了产业奖补政策"),)),
            Stage("problems", TEXT, (press("skip"),)),
            Stage("evidence", PICK, (press("t:done"),)),
            Stage("confirm", PICK, OK),
        ),
        photo_is_evidence=True,
    ),
    "diary": Walk(
        Act("command", "diary"),
        (
            Stage("household", PICK, (press("h:{mine}"),)),
            Stage("done", TEXT, (say("走访了张三家，查看了危房"),)),
            Stage("seen", TEXT, (press("skip"),)),
            Stage("thoughts", TEXT, (say("应尽快申请改造资金"),)),
            Stage("topics", PICK, (press("t:livelihood"), press("t:done"))),
            Stage("opinion", TEXT, (say("希望早点动工"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "event": Walk(
        Act("command", "event"),
        (
            Stage("household", PICK, (press("h:{mine}"),)),
            Stage("kind", PICK, (press("c:illness"),)),
            Stage("date", PICK, (press("d:0"),)),
            Stage("note", TEXT, (press("skip"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "problem": Walk(
        Act("command", "problem"),
        (
            Stage("household", PICK, (press("h:{mine}"),)),
            Stage("description", TEXT, (say("想申请小额信贷"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "resolve": Walk(
        Act("command", "resolve"),
        (
            Stage("problem", PICK, (press("p:{problem}"),)),
            Stage("resolution", TEXT, (say("补助已发放到户"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "leave": Walk(
        Act("command", "leave"),
        (
            Stage("until", UNTIL, (say("5天"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
}

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
    ]
    if kind != TEXT:  # at a free-text step a date or odd text is a fine answer
        if kind == UNTIL:
            bad.append(("far future date", say("2030-01-01"), "请假日期要在"))
        else:
            bad.append(("future date", say(FUTURE), "不能是将来" if step == "date" else ""))
        bad.append(("garbage", say(GARBAGE), ""))
        bad.append(("blank text", say("   "), ""))
    if not walk.photo_is_evidence:
        bad.append(("photo", Act("photo", "AgADphoto1"), ""))
    return bad


async def check_finished(name: str, world: World, db: Database) -> None:
    """The flow's record is stored: exactly one new one."""
    got = await records(db, world.seed.cadre_id)
    expected = {"contact": 0, "diary": 0, "event": 0, "problem": 1, "resolved": 0}
    if name == "leave":
        assert await leave_of(db, world.seed.cadre_id) == "2026-11-28"
    else:
        key = {"report": "contact", "problem": "problem", "resolve": "resolved"}.get(name, name)
        expected[key] += 1
    assert got == expected


CASES = [(name, i) for name, walk in WALKS.items() for i in range(len(walk.stages))]


@pytest.mark.parametrize(
    ("flow", "index"), CASES, ids=[f"{f}-{WALKS[f].stages[i].step}" for f, i in CASES]
)
async def test_bad_input_at_every_step_keeps_the_draft(db, flow: str, index: int) -> None:
    world = await bound_world(db)
    walk = WALKS[flow]
    prompt = (await do(world, walk.start))[-1]
    for stage in walk.stages[:index]:
        for act in stage.go:
            prompt = (await do(world, act))[-1]
    stage = walk.stages[index]
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

    for later in walk.stages[index:]:
        for act in later.go:
            assert_clear_chinese(await do(world, act), f"{act} in {flow}")
    assert (await conversation(db))[:2] == ("", "")
    await check_finished(flow, world, db)


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
