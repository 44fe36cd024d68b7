"""`ChatAccount`: mapped on the Core table `chat_accounts` (storage/tables/chat_account.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.chat_account import chat_accounts


class ChatAccount(Base):
    """A chat identity bound to a cadre: (channel, account_id) → cadre, answered at chat_id."""

    __tablename__ = "chat_accounts"
    __table__ = chat_accounts
    id: Mapped[int]
    channel: Mapped[str]
    account_id: Mapped[str]
    chat_id: Mapped[str]
    cadre_id: Mapped[int]
    language: Mapped[str]
    bound_at: Mapped[datetime]
    blocked_at: Mapped[datetime | None]
