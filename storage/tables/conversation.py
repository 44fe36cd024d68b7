"""The `conversations` table."""

from __future__ import annotations

from sqlalchemy import JSON, Column, String, Table

from storage.tables._meta import Stamp, metadata

# Where a chat account is in a flow, and its draft. Keyed by (channel, account).
conversations = Table(
    "conversations",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("account_id", String(100), primary_key=True),
    Column("flow", String(30), default="", nullable=False),
    Column("step", String(30), default="", nullable=False),
    Column("draft", JSON, default=dict, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    Column("expires_at", Stamp),
    # The last record saved, for undo/correct within the policy's window.
    Column("last_record", JSON, default=dict, nullable=False),
)
