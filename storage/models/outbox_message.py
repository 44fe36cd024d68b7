"""`OutboxMessage`: mapped on the Core table `outbox` (storage/tables/outbox_message.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.outbox_message import outbox


class OutboxMessage(Base):
    """A message waiting to be sent; `dedupe_key` makes enqueueing idempotent."""

    __tablename__ = "outbox"
    __table__ = outbox
    id: Mapped[int]
    dedupe_key: Mapped[str]
    channel: Mapped[str]
    chat_id: Mapped[str]
    kind: Mapped[str]
    payload: Mapped[dict[str, Any]]
    cadre_id: Mapped[int | None]
    group_id: Mapped[int | None]
    status: Mapped[str]
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str]
    last_error: Mapped[str]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    due_on: Mapped[date | None]
    stage_on: Mapped[date | None]
