"""The `deeds` table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Table,
    Text,
)

from storage.tables._meta import BigId, Stamp, metadata

# 办实事: a practical thing done for a household, when, and its cost or value.
deeds = Table(
    "deeds",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("household_id", BigId, ForeignKey("households.id"), index=True, nullable=False),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), nullable=False),
    Column("what", Text, nullable=False),
    Column("done_on", Date, nullable=False),
    Column("value", Float),  # yuan
    Column("created_at", Stamp, nullable=False),
    Column("deleted_at", Stamp),
    Index("ix_deeds_cadre_day", "cadre_id", "done_on"),
)
