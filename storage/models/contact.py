"""`Contact`: mapped on the Core table `contacts` (storage/tables/contact.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.contact import contacts


class Contact(Base):
    """A call or a visit: when it happened (occurred_on) and when it was reported."""

    __tablename__ = "contacts"
    __table__ = contacts
    id: Mapped[int]
    cadre_id: Mapped[int]
    household_id: Mapped[int]
    kind: Mapped[str]
    occurred_on: Mapped[date]
    reported_at: Mapped[datetime]
    help_tags: Mapped[list[Any]]
    summary: Mapped[str]
    problems_raised: Mapped[str]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    photo_refs: Mapped[list[Any]]
    source_channel: Mapped[str]
    source_message_id: Mapped[str]
    entered_by: Mapped[str]
    deleted_at: Mapped[datetime | None]
