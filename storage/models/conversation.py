"""The `Conversation` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base


class Conversation(Base):
    """Where a chat account is in a flow, and its draft. Keyed by (channel, account)."""

    __tablename__ = "conversations"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    flow: Mapped[str] = mapped_column(String(30), default="")
    step: Mapped[str] = mapped_column(String(30), default="")
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    # The last record saved, for undo/correct within the policy's window.
    last_record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
