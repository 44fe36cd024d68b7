"""The `outbox` table."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from storage.tables._meta import BigId, Stamp, metadata

# A message waiting to be sent; `dedupe_key` makes enqueueing idempotent.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("dedupe_key", String(200), unique=True, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("chat_id", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # reminder | digest | review | reply
    Column("payload", JSON, nullable=False),
    Column("cadre_id", BigId, ForeignKey("cadres.id")),
    Column("group_id", BigId, ForeignKey("supervisor_groups.id")),
    Column("status", String(10), default="pending", nullable=False),
    Column("attempts", Integer, default=0, nullable=False),
    Column("next_attempt_at", Stamp, nullable=False),
    Column("claimed_at", Stamp),
    Column("claimed_by", String(100), default="", nullable=False),
    Column("last_error", Text, default="", nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("sent_at", Stamp),
    # A reminder: the earliest due date of its duties. Among due rows the most overdue are
    # claimed first; rows without one (digests, notices) before any reminder.
    Column("due_on", Date),
    # A reminder of the daily sweep: the local day swept. The row is then also the sweep's
    # claim of the duties its payload lists (storage.sweep_marks): a rerun that day, or a
    # concurrent sweep, reads the cadre's rows of the day and says none of them again.
    Column("stage_on", Date),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    Index("ix_outbox_sent_at", "sent_at"),
    Index("ix_outbox_cadre_stage", "cadre_id", "stage_on"),
)
