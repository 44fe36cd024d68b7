"""`Event`: mapped on the Core table `events` (storage/tables/event.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.event import events


class Event(Base):
    """有了困难 / 生老病死 / 出现纠纷: creates a must-visit duty due on visit_due_on."""

    __tablename__ = "events"
    __table__ = events
    id: Mapped[int]
    household_id: Mapped[int]
    cadre_id: Mapped[int]
    kind: Mapped[str]
    occurred_on: Mapped[date]
    visit_due_on: Mapped[date]
    note: Mapped[str]
    reported_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
