from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


async def test_enqueue_twice_stores_once(db):
    msgs = [
        NewMessage(
            dedupe_key=f"call:{i}:2026-11:1",
            channel="telegram",
            chat_id=str(i),
            kind="reminder",
            payload={"text": "请联系"},
        )
        for i in range(3)
    ]
    async with db.transaction() as s:
        assert await enqueue(s, msgs, now=NOW) == 3
    async with db.transaction() as s:
        assert await enqueue(s, msgs, now=NOW) == 0
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == 3
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == "1"))
        assert row is not None and row.next_attempt_at == NOW and row.payload["text"] == "请联系"
