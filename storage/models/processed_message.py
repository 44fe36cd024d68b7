"""`ProcessedMessage`: mapped on the Core table `processed_messages` (storage/tables/processed_message.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.processed_message import processed_messages


class ProcessedMessage(Base):
    """Inbound ids already handled; inserted in the same transaction as their effect."""

    __tablename__ = "processed_messages"
    __table__ = processed_messages
    channel: Mapped[str]
    message_id: Mapped[str]
    processed_at: Mapped[datetime]
