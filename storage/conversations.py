"""Conversation state rows and the processed-message ledger."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, literal_column, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core_db import execute_core
from storage.dialect import insert_ignore, insert_ignore_for, is_postgres
from storage.models import ChatAccount, Conversation, ProcessedMessage
from storage.people import AccountView, account_view_query, view_of


async def mark_processed(
    session: AsyncSession, channel: str, message_id: str, now: datetime
) -> bool:
    """Record an inbound id; False when it was already processed (a redelivery)."""
    params = {"channel": channel, "message_id": message_id, "processed_at": now}
    result = await execute_core(session, _mark(is_postgres(session)), params)
    return result.first() is not None


# Statements run on every update are built once (see storage/people.py).
@functools.cache
def _mark(postgres: bool) -> Any:
    table = ProcessedMessage.__table__
    stmt = insert_ignore_for(postgres, table, ["channel", "message_id"])  # type: ignore[arg-type]
    stmt = stmt.values(
        channel=bindparam("channel"),
        message_id=bindparam("message_id"),
        processed_at=bindparam("processed_at"),
    )
    return stmt.returning(table.c.message_id)


@dataclass(slots=True)
class ConversationState:
    """A conversation row as one update reads and changes it; `save_conversation` writes it.

    A plain object, not an ORM instance: an update writes it back with one prebuilt UPDATE
    instead of the unit of work's change tracking and flush.
    """

    channel: str
    account_id: str
    flow: str
    step: str
    draft: dict[str, Any]
    updated_at: datetime
    expires_at: datetime | None
    last_record: dict[str, Any]


_STATE_COLUMNS = ("flow", "step", "draft", "updated_at", "expires_at", "last_record")


@functools.cache
def _conversation(postgres: bool) -> Any:
    table = cast(Table, Conversation.__table__)
    query = select(*(table.c[name] for name in _STATE_COLUMNS)).where(
        table.c.channel == bindparam("channel"),
        table.c.account_id == bindparam("account_id"),
    )
    return query.with_for_update() if postgres else query


@functools.cache
def _save() -> Any:
    table = cast(Table, Conversation.__table__)
    return (
        update(table)
        .where(
            table.c.channel == bindparam("key_channel"),
            table.c.account_id == bindparam("key_account_id"),
        )
        .values({name: bindparam(name) for name in _STATE_COLUMNS})
    )


@functools.cache
def _account_and_conversation(postgres: bool) -> Any:
    """The account view with the conversation's columns (NULL when it has no row yet).

    PostgreSQL locks the conversation row in a LATERAL subquery (FOR UPDATE may not name
    the nullable side of an outer join); SQLite has no row locks (the transaction took the
    one write lock with the update's first statement) and joins the table.
    """
    table = cast(Table, Conversation.__table__)
    accounts = cast(Table, ChatAccount.__table__)
    state = [table.c.account_id, *(table.c[name] for name in _STATE_COLUMNS)]
    query = account_view_query()
    if postgres:
        conv = (
            select(*state)
            .where(
                table.c.channel == accounts.c.channel,
                table.c.account_id == accounts.c.account_id,
            )
            .with_for_update()
            .lateral("conv")
        )
        return query.add_columns(*conv.c).outerjoin(conv, true())
    joined = (table.c.channel == accounts.c.channel) & (table.c.account_id == accounts.c.account_id)
    return query.add_columns(*state).outerjoin(table, joined)


async def account_and_conversation(
    session: AsyncSession, channel: str, account_id: str
) -> tuple[AccountView | None, ConversationState | None]:
    """The account view and its conversation, locked for this transaction, in one query.

    (None, None) for an unknown account; the conversation is None when it has no row yet
    (`load_for_update` creates it). What a private chat's update reads first.
    """
    params = {"channel": channel, "account_id": account_id}
    statement = _account_and_conversation(is_postgres(session))
    row = (await execute_core(session, statement, params)).first()
    return _view_and_state(row, channel, account_id)


def _view_and_state(
    row: Any, channel: str, account_id: str
) -> tuple[AccountView | None, ConversationState | None]:
    """A row of `_account_and_conversation`; None, or a NULL language (never NULL in a
    stored account: the outer join of `_marked_account_and_conversation`), for none."""
    if row is None or row[0] is None:
        return None, None
    view = view_of(row)
    present, flow, step, draft, updated_at, expires_at, last_record = row[-7:]
    if present is None:
        return view, None
    conv = ConversationState(
        channel, account_id, flow, step, draft or {}, updated_at, expires_at, last_record or {}
    )
    return view, conv


@functools.cache
def _marked_account_and_conversation() -> Any:
    """PostgreSQL: the ledger's insert (a data-modifying CTE) and `account_and_conversation`
    in one statement, one row always: whether the message is new, then the account's
    columns (NULL for an unknown account). PostgreSQL runs the insert whether or not the
    rest finds a row."""
    mark = _mark(True).cte("mark")
    fresh = select(func.count()).select_from(mark).scalar_subquery()
    view = _account_and_conversation(True).lateral("v")
    one = select(literal_column("1").label("one")).subquery("one")
    return select(fresh.label("fresh"), *view.c).select_from(one.outerjoin(view, true()))


async def marked_account_and_conversation(
    session: AsyncSession, channel: str, account_id: str, message_id: str, now: datetime
) -> tuple[bool, AccountView | None, ConversationState | None]:
    """`mark_processed`, then (for a new message) `account_and_conversation`.

    (False, None, None) for a redelivery. On PostgreSQL one statement (one round trip
    fewer an update); on SQLite, which has no data-modifying CTE, the two in turn. An
    empty `message_id` is not marked (see handlers/core.py).
    """
    if not message_id or not is_postgres(session):
        if message_id and not await mark_processed(session, channel, message_id, now):
            return False, None, None
        view, conv = await account_and_conversation(session, channel, account_id)
        return True, view, conv
    params = {
        "channel": channel,
        "account_id": account_id,
        "message_id": message_id,
        "processed_at": now,
    }
    row = (await execute_core(session, _marked_account_and_conversation(), params)).first()
    assert row is not None  # the outer join's one row
    if not row[0]:
        return False, None, None
    view, conv = _view_and_state(row[1:], channel, account_id)
    return True, view, conv


async def load_for_update(
    session: AsyncSession, channel: str, account_id: str, now: datetime
) -> ConversationState:
    """The account's conversation, created if missing, its row locked for this transaction.

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


async def _locked(session: AsyncSession, channel: str, account_id: str) -> ConversationState | None:
    params = {"channel": channel, "account_id": account_id}
    row = (await execute_core(session, _conversation(is_postgres(session)), params)).first()
    if row is None:
        return None
    flow, step, draft, updated_at, expires_at, last_record = row
    return ConversationState(
        channel, account_id, flow, step, draft or {}, updated_at, expires_at, last_record or {}
    )


async def save_conversation(session: AsyncSession, conv: ConversationState) -> None:
    """Write the conversation back (the row `load_for_update` locked)."""
    params = {
        "key_channel": conv.channel,
        "key_account_id": conv.account_id,
        "flow": conv.flow,
        "step": conv.step,
        "draft": conv.draft,
        "updated_at": conv.updated_at,
        "expires_at": conv.expires_at,
        "last_record": conv.last_record,
    }
    await execute_core(session, _save(), params)


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
