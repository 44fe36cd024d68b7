"""The `SupervisorGroup` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class SupervisorGroup(Base):
    """A chat that receives a unit's digests: a Telegram group or a WeCom group robot.

    For a WeCom robot `chat_id` is the webhook key — a secret: never log it.
    """

    __tablename__ = "supervisor_groups"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # telegram | wecom_robot
    chat_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    bound_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
