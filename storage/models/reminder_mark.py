"""`ReminderMark`: mapped on the Core table `reminder_marks` (storage/tables/reminder_mark.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.reminder_mark import reminder_marks


class ReminderMark(Base):
    """Something reminded once. A sweep's claim: one row per cadre and claim ("remind:
    {cadre}:{day}:{hash}") whose `duties` holds the duty keys it reminded, one a line (e.g.
    "contact:{pairing}:{day}"); an escalated lapse: one row per lapse ("esc:…", no duties)."""

    __tablename__ = "reminder_marks"
    __table__ = reminder_marks
    key: Mapped[str]
    cadre_id: Mapped[int]
    stage_on: Mapped[date]
    created_at: Mapped[datetime]
    duties: Mapped[str | None]
