"""Enrolment codes cannot be guessed at will: wrong codes make the account wait, longer each
time; many wrong codes from everyone pause that kind of code; every attempt is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.clock import FixedClock
from core.policy import Policy
from core.types import Channel
from handlers.context import Context
from storage.models import AuditLog, ChatAccount
from tests.chat import Chat, texts
from tests.flowkit import NOW
from tests.seed import seed


async def audited(db, action: str) -> int:
    async with db.transaction() as s:
        return int(await s.scalar(select(func.count()).where(AuditLog.action == action)) or 0)


async def bound(db) -> int:
    async with db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(ChatAccount)) or 0)


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.WECOM])
async def test_five_wrong_codes_make_the_account_wait_longer_each_time(db, channel):
    clock = FixedClock(NOW)
    ctx = Context(db=db, clock=clock, policy=Policy())
    s = await seed(db, NOW)
    chat = Chat(ctx, account="guesser", channel=channel)
    for _ in range(4):
        said = texts(await chat.command("start", "WRONG123"))
        assert "绑定码不对" in said and "分钟后再试" not in said
    said = texts(await chat.command("start", "WRONG123"))
    assert "绑定码不对" in said and "请 1 分钟后再试" in said
    # Waiting: even the right code is not looked at, and stays usable.
    said = texts(await chat.command("start", s.code))
    assert "请 1 分钟后再试" in said and await bound(db) == 0
    clock.advance(timedelta(seconds=61))
    assert "请 2 分钟后再试" in texts(await chat.command("start", "WRONG123"))
    clock.advance(timedelta(seconds=121))
    assert "请 4 分钟后再试" in texts(await chat.command("start", "WRONG123"))
    clock.advance(timedelta(minutes=4, seconds=1))
    assert "绑定成功" in texts(await chat.command("start", s.code))
    assert await audited(db, "enrol.failed") == 7
    assert await audited(db, "enrol.throttled") == 1


async def test_many_wrong_codes_from_everyone_pause_that_kind_of_code(db):
    clock = FixedClock(NOW)
    ctx = Context(db=db, clock=clock, policy=Policy())
    s = await seed(db, NOW)
    limit = Policy().enrolment.space_failures
    for n in range(limit):
        await Chat(ctx, account=f"bot{n}").command("start", f"GUESS{n:04d}")
    said = texts(await Chat(ctx, account="honest").command("start", s.code))
    assert "绑定暂停 10 分钟" in said and await bound(db) == 0
    # Group codes are another space: a supervisors' group can still bind.
    group = Chat(ctx, account="boss", group="-100")
    assert "督导群" in texts(await group.command("bind", s.group_code))
    clock.advance(timedelta(minutes=11))
    assert "绑定成功" in texts(await Chat(ctx, account="honest").command("start", s.code))


async def test_group_bind_is_throttled_too(db):
    ctx = Context(db=db, clock=FixedClock(NOW), policy=Policy())
    s = await seed(db, NOW)
    group = Chat(ctx, account="boss", group="-100")
    for _ in range(5):
        await group.command("bind", "WRONG123")
    assert "分钟后再试" in texts(await group.command("bind", s.group_code))
