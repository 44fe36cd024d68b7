"""Two messages from one account handled at the same time (a double tap, a webhook retry
racing the original, two bot processes): the draft is not corrupted and nothing is saved
twice (a known failure of chat frameworks that keep state in memory). Each case runs as one process (the per-account lock in
handlers.core) and as two processes (two engines, no shared in-process lock), where only
the database's row lock (PostgreSQL) or write lock (SQLite) keeps the turns apart."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace

import pytest

import handlers.core
from core.types import InboundKind, Reply
from storage.db import Database
from tests.chat import Chat, texts
from tests.flowkit import CRASH, World, bound_world, conversation, saved_records, walk_to


class Meet:
    """Wraps the conversation's load so that two armed turns load it at the same
    moment when the database lets them (a turn the database holds back, e.g. behind
    SQLite's write lock, goes on alone after a short wait)."""

    def __init__(self, load):  # type: ignore[no-untyped-def]
        self.load, self.waiting, self.arrived = load, 0, asyncio.Event()
        self.armed = False

    async def __call__(self, *args, **kw):  # type: ignore[no-untyped-def]
        if self.armed:
            self.waiting += 1
            if self.waiting >= 2:
                self.arrived.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 0.5)
        return await self.load(*args, **kw)


@dataclass
class Twin:
    world: World
    other: Chat  # the same account, maybe through another process
    meet: Meet | None = None

    async def both(self, first, second) -> tuple[list[Reply], list[Reply]]:  # type: ignore[no-untyped-def]
        """Run two sends concurrently; neither may crash."""
        if self.meet is not None:
            self.meet.armed = True
        a, b = await asyncio.gather(first, second)
        for replies in (a, b):
            assert CRASH not in texts(replies)
        return a, b


@pytest.fixture(params=["one process", "two processes"])
async def twin(request: pytest.FixtureRequest, db: Database, monkeypatch: pytest.MonkeyPatch):
    world = await bound_world(db)
    if request.param == "one process":
        yield Twin(world, Chat(world.ctx, log=[]))
        return
    # A second process: its own engine and pool, and no lock shared with the first.
    other_db = Database(db.url, schema=db.schema)
    monkeypatch.setattr(handlers.core, "_lock_for", lambda inbound: asyncio.Lock())
    meet = Meet(handlers.core.marked_account_and_conversation)
    monkeypatch.setattr(handlers.core, "marked_account_and_conversation", meet)
    try:
        yield Twin(world, Chat(replace(world.ctx, db=other_db), log=[]), meet)
    finally:
        await other_db.dispose()


async def test_double_tap_on_confirm_saves_once(twin: Twin) -> None:
    world, other = twin.world, twin.other
    await walk_to(world, "report", "confirm")
    a, b = await twin.both(world.chat.press(ok := world.chat.confirm_data()), other.press(ok))
    assert sorted("已保存" in texts(r) for r in (a, b)) == [False, True]
    assert b and a  # the second tap is answered too (the menu hint), not dropped
    assert (await saved_records(world.ctx.db, world.seed.cadre_id))["contact"] == 1
    assert (await conversation(world.ctx.db))[:2] == ("", "")


async def test_one_update_delivered_twice_at_once_is_handled_once(twin: Twin) -> None:
    world, other = twin.world, twin.other
    await walk_to(world, "diary", "confirm")
    a, b = await twin.both(
        world.chat.send(InboundKind.BUTTON, "same-update", data=world.chat.confirm_data()),
        other.send(InboundKind.BUTTON, "same-update", data=world.chat.confirm_data()),
    )
    assert sorted(len(r) for r in (a, b))[0] == 0  # one of them was a redelivery
    assert (await saved_records(world.ctx.db, world.seed.cadre_id))["diary"] == 1


async def test_two_toggles_at_once_both_count(twin: Twin) -> None:
    world, other = twin.world, twin.other
    await walk_to(world, "report", "tags")
    await twin.both(world.chat.press("t:政策"), other.press("t:销路"))
    flow, step, draft = await conversation(world.ctx.db)
    assert (flow, step, draft["tags"]) == ("report", "tags", ["政策", "销路"])


async def test_two_texts_at_once_fill_two_steps_in_order(twin: Twin) -> None:
    world, other = twin.world, twin.other
    await walk_to(world, "report", "summary")
    await twin.both(world.chat.say("讲解了产业奖补政策"), other.say("想申请小额信贷"))
    _, step, draft = await conversation(world.ctx.db)
    assert step == "evidence"
    assert {draft["summary"], draft["problems"]} == {"讲解了产业奖补政策", "想申请小额信贷"}
    await world.chat.press("t:done")
    await world.chat.press(world.chat.confirm_data())
    records = await saved_records(world.ctx.db, world.seed.cadre_id)
    assert (records["contact"], records["problem"]) == (1, 3)  # 2 seeded + the one raised
