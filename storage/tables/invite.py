"""The `invites` table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    String,
    Table,
)

from storage.tables._meta import BigId, Stamp, metadata

# A one-time enrolment code, stored as a SHA-256 hash.
invites = Table(
    "invites",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("code_hash", String(64), unique=True, nullable=False),
    Column("kind", String(10), nullable=False),  # cadre | group
    Column("cadre_id", BigId, ForeignKey("cadres.id")),
    Column("unit_id", BigId, ForeignKey("units.id")),
    Column("created_at", Stamp, nullable=False),
    Column("expires_at", Stamp, nullable=False),
    Column("used_at", Stamp),
    Column("used_by", String(150), default="", nullable=False),
)
