"""The `ReminderMark` table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class ReminderMark(Base):
    """A duty reminded at one stage (key like "contact:{pairing}:{day}"): reminded once."""

    __tablename__ = "reminder_marks"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"))
    stage_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime]
