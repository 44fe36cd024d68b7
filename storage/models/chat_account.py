"""The `ChatAccount` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class ChatAccount(Base):
    """A chat identity bound to a cadre: (channel, account_id) → cadre, answered at chat_id."""

    __tablename__ = "chat_accounts"
    __table_args__ = (UniqueConstraint("channel", "account_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str] = mapped_column(String(100))
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"), index=True)
    language: Mapped[str] = mapped_column(String(10), default="zh")
    bound_at: Mapped[datetime]
    blocked_at: Mapped[datetime | None]  # the account blocked the bot; set by the dispatcher
