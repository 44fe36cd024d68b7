"""The `processed_messages` table."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from storage.tables._meta import Stamp, metadata

# Inbound ids already handled; inserted in the same transaction as their effect. On SQLite
# keyed by its primary key alone (WITHOUT ROWID: one B-tree besides the index, not two).
processed_messages = Table(
    "processed_messages",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("message_id", String(120), primary_key=True),
    Column("processed_at", Stamp, index=True, nullable=False),
    sqlite_with_rowid=False,
)
