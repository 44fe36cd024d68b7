"""Property: over any sequence of report / problem / resolve / correct (saved or cancelled) /
undo / waiting, no record is lost or doubled, and the digest's figures agree with the records.

A plain Python model says what the records must be; after every step the database's live
records and the digest are compared with it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from core.policy import Policy
from reminders.digest import collect_digest
from storage.models import Base, Contact, Problem
from tests.chat import texts
from tests.factories import clear_scope_counts
from tests.flowkit import CRASH, NOW, World, bound_world

HOUSEHOLDS = ("张三", "李四", "王小明", "陈美玲")
SEEDED_PROBLEM = "危房改造补助还没到"  # bound_world gives me this open problem
SETTLED_APPEAL = "孩子上学交通补助"  # and this appeal, settled and awaiting its call-back


@dataclass(frozen=True)
class Rec:
    kind: str  # contact | problem
    household: str
    what: str  # contact: visit/call; problem: its description
    day: date
    status: str = ""  # problems: open | resolved


@dataclass
class Model:
    records: dict[int, Rec]
    keys: itertools.count
    last: tuple | None = None  # ("add", key) | ("correct", new, old) | ("resolve", key)
    last_at: datetime | None = None

    def add(self, rec: Rec, now: datetime) -> int:
        key = next(self.keys)
        self.records[key] = rec
        self.last, self.last_at = ("add", key), now
        return key

    def undoable(self, now: datetime) -> tuple | None:
        if self.last is None or self.last_at is None:
            return None
        return self.last if now - self.last_at <= timedelta(minutes=30) else None

    def open_problems(self) -> list[int]:
        return [k for k, r in self.records.items() if r.kind == "problem" and r.status == "open"]


ops = st.one_of(
    st.tuples(
        st.just("report"),
        st.sampled_from(HOUSEHOLDS),
        st.sampled_from(["visit", "call"]),
        st.sampled_from([0, 1]),
    ),
    st.tuples(
        st.just("problem"), st.sampled_from(HOUSEHOLDS), st.sampled_from(["屋顶漏雨", "想申请低保"])
    ),
    st.tuples(st.just("resolve")),
    st.tuples(
        st.just("correct"), st.sampled_from(["date", "same", "cancel"]), st.sampled_from([0, 1])
    ),
    st.tuples(st.just("undo")),
    st.tuples(st.just("wait")),
)


async def _fresh(db) -> World:
    async with db.transaction() as s:
        for table in reversed(Base.metadata.sorted_tables):
            await s.execute(delete(table))
        await clear_scope_counts(s)  # what the deletes' triggers put back
    return await bound_world(db)


async def _report(world: World, model: Model, hh: str, method: str, back: int) -> None:
    word = ("今天", "昨天")[back]
    text = f"{word}去{hh}家走访了" if method == "visit" else f"{word}给{hh}打了电话"
    await world.chat.say(text)
    await world.chat.tap("确认保存")
    now = world.clock.now()
    model.add(Rec("contact", hh, method, now.date() - timedelta(days=back)), now)


async def _problem(world: World, model: Model, hh: str, description: str) -> None:
    await world.chat.command("problem")
    await world.chat.tap(hh)
    await world.chat.tap("其他")
    await world.chat.say("顿谷镇")
    await world.chat.tap("按规定")
    await world.chat.say(description)
    await world.chat.tap("确认保存")
    now = world.clock.now()
    model.add(Rec("problem", hh, description, now.date(), "open"), now)


async def _resolve(world: World, model: Model) -> None:
    replies = await world.chat.command("resolve")
    open_keys = model.open_problems()
    if not open_keys:
        assert "没有未解决" in texts(replies)
        return
    first = replies[-1].buttons[0][0]  # oldest first, as the model orders them (by key)
    await world.chat.press(first.data)
    await world.chat.say("已修好")
    await world.chat.tap("确认保存")
    key = open_keys[0]
    model.records[key] = replace(model.records[key], status="resolved")
    model.last, model.last_at = ("resolve", key), world.clock.now()


async def _correct(world: World, model: Model, how: str, back: int) -> None:
    replies = await world.chat.command("correct")
    last = model.undoable(world.clock.now())
    if last is None:
        assert "没有可撤销" in texts(replies)
        return
    if last[0] == "resolve":
        assert "/undo" in texts(replies)
        return
    if how == "cancel":
        await world.chat.command("cancel")
        return
    old = last[1]
    rec = model.records[old]
    if how == "date" and rec.kind == "contact":
        await world.chat.tap("改日期")
        await world.chat.tap(("今天", "昨天")[back])
        rec = replace(rec, day=world.clock.now().date() - timedelta(days=back))
    await world.chat.tap("确认保存")
    del model.records[old]
    new = next(model.keys)
    model.records[new] = rec
    model.last, model.last_at = ("correct", new, old), world.clock.now()


async def _undo(world: World, model: Model, originals: dict[int, Rec]) -> None:
    said = texts(await world.chat.command("undo"))
    last = model.undoable(world.clock.now())
    model.last = None
    if last is None:
        assert "没有可撤销" in said
        return
    assert "已撤销" in said
    if last[0] == "add":
        del model.records[last[1]]
    elif last[0] == "resolve":
        model.records[last[1]] = replace(model.records[last[1]], status="open")
    else:
        _, new, old = last
        del model.records[new]
        model.records[old] = originals[old]


async def _check(world: World, model: Model) -> None:
    db, me = world.ctx.db, world.seed.cadre_id
    names = {v: k for k, v in world.seed.households.items()}
    async with db.transaction() as s:
        contacts = await s.scalars(
            select(Contact).where(Contact.cadre_id == me, Contact.deleted_at.is_(None))
        )
        problems = await s.scalars(
            select(Problem).where(Problem.cadre_id == me, Problem.deleted_at.is_(None))
        )
        stored = Counter(
            [("contact", names[c.household_id], c.kind, c.occurred_on, "") for c in contacts]
            + [
                ("problem", names[p.household_id], p.description, p.raised_on, p.status)
                for p in problems
            ]
        )
    expected = Counter(
        (r.kind, r.household, r.what, r.day, r.status) for r in model.records.values()
    )
    assert stored == expected
    d = await collect_digest(db, world.seed.county_id, world.clock.now(), Policy())
    assert d is not None
    contacts_m = [r for r in model.records.values() if r.kind == "contact"]
    problems_m = [r for r in model.records.values() if r.kind == "problem"]
    visited = {r.household for r in contacts_m if r.what == "visit"}
    # The other cadre's open problem is in the county too.
    assert d.stats.coverage.visited_quarter == len(visited)
    assert d.stats.coverage.contacted_period == len({r.household for r in contacts_m})
    assert d.stats.problems_raised == len(problems_m) + 1
    assert d.stats.problems_resolved == sum(r.status == "resolved" for r in problems_m)
    assert d.stats.problems_open == sum(r.status == "open" for r in problems_m) + 1


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(ops, min_size=1, max_size=8))
async def test_no_record_lost_or_doubled(db, script):
    world = await _fresh(db)
    model = Model(
        {
            0: Rec("problem", "李四", SEEDED_PROBLEM, NOW.date(), "open"),
            -1: Rec("problem", "王小明", SETTLED_APPEAL, NOW.date(), "resolved"),
        },
        itertools.count(1),
    )
    originals: dict[int, Rec] = dict(model.records)
    for op, *args in script:
        if op == "report":
            await _report(world, model, *args)
        elif op == "problem":
            await _problem(world, model, *args)
        elif op == "resolve":
            await _resolve(world, model)
        elif op == "correct":
            await _correct(world, model, *args)
        elif op == "undo":
            await _undo(world, model, originals)
        else:
            world.clock.advance(timedelta(minutes=31))
        originals.update(model.records)
        assert all(CRASH not in r.text for r in world.chat.log[-6:]), op
        await _check(world, model)
