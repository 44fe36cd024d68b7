"""The `events` table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from storage.tables._meta import BigId, Stamp, metadata

# 有了困难 / 生老病死 / 出现纠纷: creates a must-visit duty due on visit_due_on.
events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("visit_due_on", Date, nullable=False),
    Column("note", Text, default="", nullable=False),
    Column("reported_at", Stamp, nullable=False),
    Column("deleted_at", Stamp),
    Index("ix_events_household_day", "household_id", "occurred_on"),
)
