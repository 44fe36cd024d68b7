"""The `ProcessedMessage` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base


class ProcessedMessage(Base):
    """Inbound ids already handled; inserted in the same transaction as their effect."""

    __tablename__ = "processed_messages"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)
