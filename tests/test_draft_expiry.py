"""An idle draft is put aside with a message to its owner, who can resume it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.clock import FixedClock
from core.payload import payload_to_reply
from core.policy import Policy
from handlers.context import Context
from handlers.expiry import expire_idle_drafts
from storage.models import OutboxMessage
from tests.chat import Chat
from tests.seed import seed

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def notices(db) -> list[OutboxMessage]:
    async with db.transaction() as s:
        return list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice")))


async def test_idle_draft_is_announced_once_and_resumable(db):
    clock = FixedClock(NOW)
    policy = Policy()
    ctx = Context(db=db, clock=clock, policy=policy)
    s = await seed(db, NOW)
    chat = Chat(ctx)
    await chat.command("start", s.code)
    await chat.tap("报告联系")
    await chat.tap("李四")
    assert await expire_idle_drafts(db, NOW + timedelta(minutes=29), policy) == 0
    assert await expire_idle_drafts(db, NOW + timedelta(minutes=31), policy) == 1
    assert await expire_idle_drafts(db, NOW + timedelta(minutes=40), policy) == 0
    [row] = await notices(db)
    notice = payload_to_reply(row.payload)
    assert row.chat_id == chat.account and "已超过 30 分钟" in notice.text
    clock.advance(timedelta(minutes=45))
    replies = await chat.press(notice.buttons[0][0].data)  # the notice's 继续 button
    assert "联系方式" in replies[-1].text
