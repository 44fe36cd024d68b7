"""The `cadres` table."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
)

from storage.tables._meta import BigId, Stamp, metadata

cadres = Table(
    "cadres",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("rank", String(30), default="", nullable=False),
    Column("unit_id", BigId, ForeignKey("units.id"), index=True, nullable=False),
    Column("phone", String(30), unique=True, nullable=False),
    Column("role", String(30), default="", nullable=False),
    Column("leave_until", Date, index=True),  # on leave through this day
    Column("active", Boolean, default=True, nullable=False),
    Column("created_at", Stamp, nullable=False),
    # Lists of cadres in name order read the first few in order (migration 0021).
    Index("ix_cadres_name_id", "name", "id"),
)
