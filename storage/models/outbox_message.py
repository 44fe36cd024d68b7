"""The `OutboxMessage` table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class OutboxMessage(Base):
    """A message waiting to be sent; `dedupe_key` makes enqueueing idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # The dispatchers' shared send history reads the last minute of sends by this.
        Index("ix_outbox_sent_at", "sent_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # reminder | digest | review | reply
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    cadre_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("cadres.id"))
    group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("supervisor_groups.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # A reminder: the earliest due date of its duties. Among due rows the most overdue are
    # claimed first; rows without one (digests, notices) before any reminder.
    due_on: Mapped[date | None] = mapped_column(Date)
