"""The `problems` table."""

from __future__ import annotations

from sqlalchemy import (
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

# A household's problem or appeal (诉求), followed until resolved and called back.
#
# `status` is open | resolved; `stage` the appeal's lifecycle: accepted (受理) → handling
# (办理中) → done (已办结) → followed (已回访); a 不满意 call-back reopens it (round + 1).
problems = Table(
    "problems",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), nullable=False),
    Column("contact_id", BigId, ForeignKey("contacts.id")),
    Column("description", Text, nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("status", String(10), default="open", nullable=False),  # open | resolved
    Column("resolution", Text, default="", nullable=False),
    Column("resolved_at", Stamp),
    Column("created_at", Stamp, nullable=False),
    Column("deleted_at", Stamp),
    Column("category", String(20), default="其他", nullable=False),
    Column("handler_unit_id", BigId, ForeignKey("units.id")),
    Column("due_on", Date),
    Column("stage", String(12), default="accepted", nullable=False),
    Column("satisfaction", String(10), default="", nullable=False),
    Column("followed_at", Stamp),
    Column("round", Integer, default=0, nullable=False),  # times reopened
    Index("ix_problems_cadre_status", "cadre_id", "status"),
    # A digest's three counts by range (migration 0020): raised in the period, resolved in
    # it, open now (covering: no row read).
    Index("ix_problems_raised_on", "raised_on"),
    Index("ix_problems_status_resolved", "status", "resolved_at"),
    Index("ix_problems_status_day", "status", "raised_on", "deleted_at", "household_id"),
)
