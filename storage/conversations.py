"""Conversation state rows and the processed-message ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_ignore, is_postgres
from storage.models import Conversation, ProcessedMessage


async def mark_processed(
    session: AsyncSession, channel: str, message_id: str, now: datetime
) -> bool:
    """Record an inbound id; False when it was already processed (a redelivery)."""
    table = ProcessedMessage.__table__
    stmt = insert_ignore(session, table, ["channel", "message_id"])  # type: ignore[arg-type]
    stmt = stmt.values(channel=channel, message_id=message_id, processed_at=now)
    result = await session.execute(stmt.returning(table.c.message_id))  # type: ignore[attr-defined]
    return result.first() is not None


async def load_for_update(
    session: AsyncSession, channel: str, account_id: str, now: datetime
) -> Conversation:
    """The account's conversation row, created if missing, locked for this transaction."""
    table = Conversation.__table__
    stmt = insert_ignore(session, table, ["channel", "account_id"])  # type: ignore[arg-type]
    await session.execute(
        stmt.values(
            channel=channel,
            account_id=account_id,
            flow="",
            step="",
            draft={},
            last_record={},
            updated_at=now,
        )
    )
    query = select(Conversation).where(
        Conversation.channel == channel, Conversation.account_id == account_id
    )
    if is_postgres(session):
        query = query.with_for_update()
    conv = await session.scalar(query.execution_options(populate_existing=True))
    assert conv is not None
    return conv


async def forget_processed_before(session: AsyncSession, cutoff: datetime) -> int:
    """Prune the ledger; platforms stop redelivering long before the cutoff."""
    result = await session.execute(
        delete(ProcessedMessage).where(ProcessedMessage.processed_at < cutoff)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
