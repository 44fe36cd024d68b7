"""Conversation state rows and the processed-message ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_ignore, is_postgres
from storage.models import ChatAccount, Conversation, ProcessedMessage


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
    """The account's conversation row, created if missing, locked for this transaction.

    Read first (one round trip when it exists, as it nearly always does); created only if
    missing, then read again.
    """
    conv = await _locked(session, channel, account_id)
    if conv is not None:
        return conv
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
    conv = await _locked(session, channel, account_id)
    assert conv is not None
    return conv


async def _locked(session: AsyncSession, channel: str, account_id: str) -> Conversation | None:
    query = select(Conversation).where(
        Conversation.channel == channel, Conversation.account_id == account_id
    )
    if is_postgres(session):
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def forget_processed_before(session: AsyncSession, cutoff: datetime) -> int:
    """Prune the ledger; platforms stop redelivering long before the cutoff."""
    result = await session.execute(
        delete(ProcessedMessage).where(ProcessedMessage.processed_at < cutoff)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ExpiredDraft:
    channel: str
    account_id: str
    chat_id: str
    language: str
    idle_since: datetime


async def expire_idle(
    session: AsyncSession, now: datetime, limit: int = 1000
) -> list[ExpiredDraft]:
    """Put aside drafts idle past their expiry (kept for "resume"); who to tell, and where."""
    query = (
        select(Conversation, ChatAccount.chat_id, ChatAccount.language)
        .join(
            ChatAccount,
            (ChatAccount.channel == Conversation.channel)
            & (ChatAccount.account_id == Conversation.account_id),
        )
        .where(Conversation.flow != "", Conversation.expires_at <= now)
        .order_by(Conversation.expires_at)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(of=Conversation, skip_locked=True)
    expired = []
    for conv, chat_id, language in await session.execute(query):
        expired.append(
            ExpiredDraft(conv.channel, conv.account_id, chat_id, language, conv.updated_at)
        )
        conv.draft = {"_expired": {"flow": conv.flow, "step": conv.step, "draft": conv.draft}}
        conv.flow, conv.step, conv.expires_at = "", "", None
    return expired
