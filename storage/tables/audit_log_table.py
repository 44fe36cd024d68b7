"""The `audit_log` table."""

from __future__ import annotations

from sqlalchemy import JSON, Column, String, Table

from storage.tables._meta import BigId, Stamp, metadata

# Who changed what: every write a person causes leaves a row here.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", Stamp, index=True, nullable=False),
    Column("actor", String(100), nullable=False),  # "cadre:12", "cli", "telegram:5551"
    Column("action", String(50), nullable=False),
    Column("entity", String(30), default="", nullable=False),
    Column("entity_id", String(50), default="", nullable=False),
    Column("detail", JSON, default=dict, nullable=False),
)
