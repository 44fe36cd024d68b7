"""The `Event` table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class Event(Base):
    """有了困难 / 生老病死 / 出现纠纷: creates a must-visit duty due on visit_due_on."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_household_day", "household_id", "occurred_on"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"))
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date] = mapped_column(Date)
    visit_due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
