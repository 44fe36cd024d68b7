"""The `chat_accounts` table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
)

from storage.tables._meta import BigId, Stamp, metadata

# A chat identity bound to a cadre: (channel, account_id) → cadre, answered at chat_id.
chat_accounts = Table(
    "chat_accounts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("account_id", String(100), nullable=False),
    Column("chat_id", String(100), nullable=False),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), index=True, nullable=False),
    Column("language", String(10), default="zh", nullable=False),
    Column("bound_at", Stamp, nullable=False),
    Column("blocked_at", Stamp),  # the account blocked the bot; set by the dispatcher
    UniqueConstraint("channel", "account_id"),
)
