"""The `diary_comments` table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Table,
    Text,
)

from storage.tables._meta import BigId, Stamp, metadata

# A supervisor's comment on a diary entry, also sent to the cadre's chat.
diary_comments = Table(
    "diary_comments",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("diary_id", BigId, ForeignKey("diary_entries.id"), index=True, nullable=False),
    Column("user_id", BigId, ForeignKey("web_users.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Stamp, nullable=False),
)
