"""Words typed at a button step are read like the button, in a word or in a sentence with
one clear choice; unclear words get one short answer and the draft stays where it was."""

from __future__ import annotations

import pytest

from tests.flowkit import bound_world, conversation, walk_to


@pytest.fixture
async def world(db):
    return await bound_world(db)


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("打电话", "call"),
        ("上门", "visit"),
        ("微信视频", "call"),
        ("嗯那个，是打了个电话跟他聊的，没去他家", "call"),
        ("今天上午到他家里坐了一会儿，看了看鸡舍", "visit"),
        ("在村口碰到他，顺便聊了几句", "other"),
    ],
)
async def test_the_means_typed_in_words_or_a_sentence(world, db, typed, kind):
    await walk_to(world, "report", "kind")
    replies = await world.chat.say(typed)
    _, step, draft = await conversation(db)
    assert (step, draft.get("kind")) == ("date", kind), [r.text for r in replies]


@pytest.mark.parametrize("typed", ["电话还是上门我忘了", "嗯", "明天再说吧这个事情先放一放"])
async def test_unclear_words_get_one_short_answer_and_the_draft_is_kept(world, db, typed):
    await walk_to(world, "report", "kind")
    before = await conversation(db)
    replies = await world.chat.say(typed)
    assert "没看出选的是哪一项" in replies[0].text and "电话" in replies[0].text
    assert len(replies[0].text) <= 60
    assert replies[-1].buttons  # the step asked again, with its buttons
    assert await conversation(db) == before


async def test_several_help_tags_in_one_line_or_a_sentence(world, db):
    await walk_to(world, "report", "tags")
    await world.chat.say("讲政策，帮卖货")
    assert (await conversation(db))[2]["tags"] == ["政策", "销路"]
    await world.chat.say("另外还给他做了养殖技术指导，送了袋米")
    assert (await conversation(db))[2]["tags"] == ["政策", "技术", "销路", "生活"]
    replies = await world.chat.say("嗯嗯")
    assert "没看出选的是哪一项" in replies[0].text
    assert (await conversation(db))[2]["tags"] == ["政策", "技术", "销路", "生活"]


async def test_dates_typed_at_the_date_step(world, db):
    await walk_to(world, "report", "date")
    replies = await world.chat.say("明天")  # the future: one clear line, the step kept
    assert "日期不能是将来" in replies[0].text
    assert (await conversation(db))[1] == "date"
    await world.chat.say("我是上礼拜五去的他家")
    _, step, draft = await conversation(db)
    assert step == "tags" and draft["date"] == "2026-11-20"  # NOW is Monday 2026-11-23


async def test_a_report_of_another_home_is_not_an_answer_here(world, db):
    await walk_to(world, "report", "kind")  # a report for 张三
    before = await conversation(db)
    replies = await world.chat.say("昨天去了陈美玲家走访")
    assert "没看出选的是哪一项" in replies[0].text
    assert await conversation(db) == before
    await world.chat.say("昨天去了老张家坐了坐")  # his own household by nickname: an answer
    assert (await conversation(db))[2]["kind"] == "visit"


@pytest.mark.parametrize(
    ("typed", "kind"),
    [("大病", "illness"), ("他老伴昨天住院了", "illness"), ("房子被大水冲了", "hardship")],
)
async def test_the_event_typed_in_words_at_the_event_step(world, db, typed, kind):
    await walk_to(world, "event", "kind")
    await world.chat.say(typed)
    _, step, draft = await conversation(db)
    assert (step, draft.get("kind")) == ("date", kind)


@pytest.mark.parametrize(
    ("typed", "due"),
    [("下周五", "2026-12-04"), ("月底前吧", "2026-11-30"), ("一个月", "2026-12-23")],
)
async def test_an_appeal_deadline_in_words(world, db, typed, due):
    await walk_to(world, "problem", "due")  # NOW is Monday 2026-11-23
    await world.chat.say(typed)
    _, step, draft = await conversation(db)
    assert (step, draft.get("due")) == ("description", due)


async def test_leave_until_a_day_in_words(world, db):
    await walk_to(world, "leave", "until")
    replies = await world.chat.say("到下周一")
    assert "11月30日（周一）" in replies[-1].text
