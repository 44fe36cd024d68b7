"""Undo, correct and cancel over records with their history: nothing lost, nothing doubled,
and every undo says what it undid."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.policy import Policy
from reminders.digest import collect_digest
from storage.models import Contact, Problem
from tests.chat import texts
from tests.flowkit import NOW, bound_world


async def live_contacts(db) -> list[Contact]:
    async with db.transaction() as s:
        rows = await s.scalars(
            select(Contact).where(Contact.deleted_at.is_(None)).order_by(Contact.id)
        )
        return list(rows)


async def problem(db, problem_id: int) -> Problem:
    async with db.transaction() as s:
        row = await s.get(Problem, problem_id)
        assert row is not None
        return row


async def digest(world):
    d = await collect_digest(world.ctx.db, world.seed.county_id, world.clock.now(), Policy())
    assert d is not None
    return d.stats


async def test_a_cancelled_correction_keeps_the_original(db):
    world = await bound_world(db)
    chat = world.chat
    await chat.say("今天去张三家走访了，看了鸡舍")
    await chat.tap("确认保存")
    assert (await digest(world)).coverage.visited_quarter == 1
    await chat.command("correct")
    assert "请核对" in chat.last_text()
    assert "原记录保留" in texts(await chat.command("cancel"))
    [kept] = await live_contacts(db)
    assert (kept.kind, kept.occurred_on) == ("visit", NOW.date())
    mine = texts(await chat.command("mine"))
    assert "走访 11-23" in mine or "走访 11月23日" in mine
    assert (await digest(world)).coverage.visited_quarter == 1
    # The original is still the last record: undo can take it back, and says which.
    assert "已撤销：11月23日（周一）入户走访 张三" in texts(await chat.command("undo"))
    assert await live_contacts(db) == []


async def test_a_saved_correction_replaces_and_its_undo_restores(db):
    world = await bound_world(db)
    chat = world.chat
    await chat.say("今天去张三家走访了")
    await chat.tap("确认保存")
    await chat.command("correct")
    await chat.tap("改日期")
    await chat.tap("昨天")
    await chat.tap("确认保存")
    [new] = await live_contacts(db)
    assert new.occurred_on == NOW.date() - timedelta(days=1)
    said = texts(await chat.command("undo"))
    assert "已撤销更正" in said and "11月23日（周一）入户走访 张三" in said
    [back] = await live_contacts(db)
    assert back.occurred_on == NOW.date()
    assert "没有可撤销" in texts(await chat.command("undo"))


async def test_a_correction_left_to_expire_keeps_the_original(db):
    world = await bound_world(db)
    chat = world.chat
    await chat.say("今天给李四打了电话")
    await chat.tap("确认保存")
    await chat.command("correct")
    world.clock.advance(timedelta(hours=2))
    await chat.command("mine")
    [kept] = await live_contacts(db)
    assert kept.kind == "call"


async def test_undoing_a_resolve_reopens_the_problem(db):
    world = await bound_world(db)
    chat = world.chat
    await chat.command("resolve")
    await chat.tap("危房改造")
    await chat.say("补助已发放到户")
    await chat.tap("确认保存")
    assert (await problem(db, world.my_problem)).status == "resolved"
    before = await digest(world)
    # The county also holds the other cadre's open problem and my appeal settled earlier.
    assert (before.problems_raised, before.problems_resolved, before.problems_open) == (3, 2, 1)
    said = texts(await chat.command("undo"))
    assert "已撤销销号" in said and "危房改造补助还没到" in said
    row = await problem(db, world.my_problem)
    assert (row.status, row.deleted_at, row.resolved_at) == ("open", None, None)
    assert row.stage == "handling"  # the appeal is back to 办理中
    after = await digest(world)
    assert (after.problems_raised, after.problems_resolved, after.problems_open) == (3, 1, 2)
    await chat.command("resolve")
    assert "危房改造" in " ".join(chat.labels())


async def test_a_resolve_cannot_be_corrected_and_says_so(db):
    world = await bound_world(db)
    chat = world.chat
    await chat.command("resolve")
    await chat.tap("危房改造")
    await chat.say("补助已发放到户")
    await chat.tap("确认保存")
    assert "/undo" in texts(await chat.command("correct"))
    assert (await problem(db, world.my_problem)).status == "resolved"


async def test_every_undo_names_the_record(db):
    world = await bound_world(db)
    chat = world.chat
    await chat.command("problem")
    await chat.tap("张三")
    await chat.tap("其他")
    await chat.say("顿谷镇")
    await chat.tap("按规定")
    await chat.say("屋顶漏雨")
    await chat.tap("确认保存")
    assert "已撤销：问题「屋顶漏雨」（张三）" in texts(await chat.command("undo"))
    await chat.say("昨天给陈美玲打了电话")
    await chat.tap("确认保存")
    assert "已撤销：11月22日（周日）电话联系 陈美玲" in texts(await chat.command("undo"))


async def test_a_line_of_two_households_is_corrected_and_restored_together(db):
    world = await bound_world(db)
    chat = world.chat
    await chat.say("今天去了张三和李四家")
    await chat.tap("确认保存")
    await chat.command("correct")
    await chat.command("cancel")
    assert len(await live_contacts(db)) == 2
    await chat.command("correct")
    await chat.tap("改日期")
    await chat.tap("昨天")
    await chat.tap("确认保存")
    moved = await live_contacts(db)
    assert [c.occurred_on for c in moved] == [NOW.date() - timedelta(days=1)] * 2
    said = texts(await chat.command("undo"))
    assert "已撤销更正" in said and "张三" in said and "李四" in said
    assert [c.occurred_on for c in await live_contacts(db)] == [NOW.date()] * 2
