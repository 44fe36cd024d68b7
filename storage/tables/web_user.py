"""The `web_users` table."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    String,
    Table,
)

from storage.tables._meta import BigId, Stamp, metadata

# An office account of the web console; sees only its unit's subtree.
web_users = Table(
    "web_users",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(50), unique=True, nullable=False),
    Column("unit_id", BigId, ForeignKey("units.id"), index=True, nullable=False),
    Column("role", String(20), nullable=False),  # admin | supervisor | viewer
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, default=True, nullable=False),
    Column("created_at", Stamp, nullable=False),
)
