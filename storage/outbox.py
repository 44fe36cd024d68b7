"""The outbox: reminders and digests wait here until the dispatcher sends them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_ignore
from storage.models import OutboxMessage


@dataclass(frozen=True)
class NewMessage:
    dedupe_key: str
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    cadre_id: int | None = None
    group_id: int | None = None
    not_before: datetime | None = None


async def enqueue(session: AsyncSession, messages: Iterable[NewMessage], *, now: datetime) -> int:
    """Insert messages, skipping any whose dedupe_key exists; returns how many were new."""
    rows = [
        {
            "dedupe_key": m.dedupe_key,
            "channel": m.channel,
            "chat_id": m.chat_id,
            "kind": m.kind,
            "payload": m.payload,
            "cadre_id": m.cadre_id,
            "group_id": m.group_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": m.not_before or now,
            "created_at": now,
            "claimed_by": "",
            "last_error": "",
        }
        for m in messages
    ]
    if not rows:
        return 0
    table = OutboxMessage.__table__
    stmt = insert_ignore(session, table, ["dedupe_key"])  # type: ignore[arg-type]
    # RETURNING counts what was really inserted; executemany rowcount is unreliable.
    stmt = stmt.returning(table.c.id)
    inserted = 0
    for start in range(0, len(rows), 500):  # stay under SQLite's bound-parameter limit
        result = await session.execute(stmt, rows[start : start + 500])
        inserted += len(result.all())
    return inserted
