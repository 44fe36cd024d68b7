"""Helpers shared by the flow robustness tests: a bound cadre, the stored draft, records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.clock import FixedClock
from core.i18n import t
from core.policy import Policy
from core.types import Channel, InboundKind, Reply
from handlers.context import Context
from storage.appeals import settle
from storage.db import Database
from storage.models import (
    Cadre,
    Contact,
    Conversation,
    Deed,
    DiaryEntry,
    Event,
    HelpMeasure,
    HelpPlan,
    Problem,
    ProblemNote,
)
from storage.plans import add_measure
from storage.records import add_problem
from tests.chat import Chat
from tests.seed import Seed, seed

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
CRASH = t("flow.internal_error", "zh")
HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class World:
    ctx: Context
    seed: Seed
    chat: Chat
    my_problem: int  # an open problem of mine, for the resolve flow
    other_problem: int  # an open problem of the other cadre
    clock: FixedClock
    settled: int = 0  # an appeal of mine settled (已办结), awaiting its call-back
    measure: int = 0  # a measure in my household's help plan


async def bound_world(db: Database, *, now: datetime = NOW) -> World:
    """The seed roster, one open problem each, and our cadre bound on the console."""
    clock = FixedClock(now)
    ctx = Context(db=db, clock=clock, policy=Policy())
    s = await seed(db, now)
    async with db.transaction() as session:
        mine = await add_problem(
            session,
            cadre_id=s.cadre_id,
            household_id=s.households["李四"],
            description="危房改造补助还没到",
            raised_on=now.date(),
            now=now,
        )
        theirs = await add_problem(
            session,
            cadre_id=s.other_cadre_id,
            household_id=s.other_household_id,
            description="别人的问题",
            raised_on=now.date(),
            now=now,
        )
        done = await add_problem(
            session,
            cadre_id=s.cadre_id,
            household_id=s.households["王小明"],
            description="孩子上学交通补助",
            raised_on=now.date(),
            now=now,
            category="教育",
        )
        await settle(session, cadre_id=s.cadre_id, appeal_id=done.id, resolution="已发放", now=now)
        measure = await add_measure(
            session,
            cadre_id=s.cadre_id,
            household_id=s.households["张三"],
            kinds=["技术上帮"],
            text="养鸡50只",
            now=now,
        )
    chat = Chat(ctx)
    await chat.command("start", s.code)
    return World(ctx, s, chat, mine.id, theirs.id, clock, settled=done.id, measure=measure.id)


async def conversation(db: Database, account: str = "1001") -> tuple[str, str, dict[str, Any]]:
    """The stored (flow, step, draft) of an account, read fresh from the database."""
    async with db.transaction() as s:
        row = await s.get(Conversation, (str(Channel.CONSOLE), account))
        if row is None:
            return "", "", {}
        return row.flow, row.step, dict(row.draft or {})


async def count(db: Database, model: type, **where: Any) -> int:
    async with db.transaction() as s:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(await s.scalar(query) or 0)


async def saved_records(db: Database, cadre_id: int) -> dict[str, int]:
    """How many records of each kind a cadre has (problems: open and resolved apart)."""
    return {
        "contact": await count(db, Contact, cadre_id=cadre_id),
        "diary": await count(db, DiaryEntry, cadre_id=cadre_id),
        "event": await count(db, Event, cadre_id=cadre_id),
        "problem": await count(db, Problem, cadre_id=cadre_id),
        "resolved": await count(db, Problem, cadre_id=cadre_id, status="resolved"),
        "notes": await count(db, ProblemNote, cadre_id=cadre_id),
        "followed": await count(db, Problem, cadre_id=cadre_id, stage="followed"),
        "measure": await count(db, HelpMeasure, cadre_id=cadre_id),
        "mprogress": await count(db, HelpMeasure, cadre_id=cadre_id, progress="见效了"),
        "deed": await count(db, Deed, cadre_id=cadre_id),
        "plan": await count(db, HelpPlan),
    }


async def leave_of(db: Database, cadre_id: int) -> str:
    async with db.transaction() as s:
        cadre = await s.get(Cadre, cadre_id)
        assert cadre is not None
        return cadre.leave_until.isoformat() if cadre.leave_until else ""


def assert_clear_chinese(replies: list[Reply], what: str) -> None:
    """Every reply is non-empty Chinese text, and none is the internal-error apology."""
    assert replies, f"no answer to {what}"
    for r in replies:
        assert r.text.strip(), f"empty reply to {what}"
        assert CRASH not in r.text, f"internal error on {what}"
        assert HAN.search(r.text), f"not Chinese: {r.text[:60]!r} for {what}"
        assert "{" not in r.text, f"unfilled placeholder in {r.text[:60]!r} for {what}"


# --- walking the flows --------------------------------------------------------------------


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
        ok=chat.confirm_data() if "{ok}" in act.value else "",
        mine=world.seed.households["张三"],
        other=world.seed.other_household_id,
        problem=world.my_problem,
        other_problem=world.other_problem,
        settled=world.settled,
        measure=world.measure,
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
DUE = "due"  # a deadline: a future date is the answer, a past one is bad


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


OK = (press("{ok}"),)
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
            Stage("category", PICK, (press("c:产业"),)),
            Stage("unit", PICK, (say("顿谷镇"),)),
            Stage("due", DUE, (press("due:policy"),)),
            Stage("description", TEXT, (say("想申请小额信贷"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "progress": Walk(
        Act("command", "progress"),
        (
            Stage("problem", PICK, (press("p:{problem}"),)),
            Stage("note", TEXT, (say("已报镇民政办审核"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "measure": Walk(
        Act("command", "measure"),
        (
            Stage("household", PICK, (press("h:{mine}"),)),
            Stage("kinds", PICK, (press("k:1"), press("k:done"))),
            Stage("text", TEXT, (say("发展养牛2头，提供贴息贷款"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "mprogress": Walk(
        Act("command", "mprogress"),
        (
            Stage("measure", PICK, (press("ms:{measure}"),)),
            Stage("progress", TEXT, (say("见效了"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "deed": Walk(
        Act("command", "deed"),
        (
            Stage("household", PICK, (press("h:{mine}"),)),
            Stage("what", TEXT, (say("帮助申请危房改造补助"),)),
            Stage("date", PICK, (press("d:1"),)),
            Stage("value", PICK, (say("1.5万"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "plan": Walk(
        Act("command", "plan"),
        (
            Stage("household", PICK, (press("h:{mine}"),)),
            Stage("target", PICK, (say("30000"),)),
            Stage("industry", TEXT, (say("养牛"),)),
            Stage("confirm", PICK, OK),
        ),
    ),
    "followup": Walk(
        Act("command", "followup"),
        (
            Stage("problem", PICK, (press("p:{settled}"),)),
            Stage("satisfaction", PICK, (press("c:满意"),)),
            Stage("note", TEXT, (press("skip"),)),
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


async def walk_to(world: World, flow: str, step: str) -> Reply:
    """Start `flow` and answer validly up to `step`; returns the prompt shown there."""
    walk = WALKS[flow]
    prompt = (await do(world, walk.start))[-1]
    for stage in walk.stages:
        if stage.step == step:
            return prompt
        for act in stage.go:
            prompt = (await do(world, act))[-1]
    raise ValueError(f"{flow} has no step {step}")


async def walk_from(world: World, flow: str, step: str) -> list[Reply]:
    """Answer validly from `step` to the end; returns every reply."""
    stages = WALKS[flow].stages
    start = [s.step for s in stages].index(step)
    replies: list[Reply] = []
    for stage in stages[start:]:
        for act in stage.go:
            replies += await do(world, act)
    return replies
