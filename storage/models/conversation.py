"""`Conversation`: mapped on the Core table `conversations` (storage/tables/conversation.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.conversation import conversations


class Conversation(Base):
    """Where a chat account is in a flow, and its draft. Keyed by (channel, account)."""

    __tablename__ = "conversations"
    __table__ = conversations
    channel: Mapped[str]
    account_id: Mapped[str]
    flow: Mapped[str]
    step: Mapped[str]
    draft: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_record: Mapped[dict[str, Any]]
