"""The `supervisor_groups` table."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
)

from storage.tables._meta import BigId, Stamp, metadata

# A chat that receives a unit's digests: a Telegram group or a WeCom group robot.
#
# For a WeCom robot `chat_id` is the webhook key — a secret: never log it.
supervisor_groups = Table(
    "supervisor_groups",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("unit_id", BigId, ForeignKey("units.id"), index=True, nullable=False),
    Column("channel", String(20), nullable=False),  # telegram | wecom_robot
    Column("chat_id", String(200), nullable=False),
    Column("title", String(200), default="", nullable=False),
    Column("bound_at", Stamp, nullable=False),
    Column("active", Boolean, default=True, nullable=False),
    UniqueConstraint("channel", "chat_id"),
)
