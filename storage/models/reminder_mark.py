"""The `ReminderMark` table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class ReminderMark(Base):
    """Something reminded once. A sweep's claim: one row per cadre and claim ("remind:
    {cadre}:{day}:{hash}") whose `duties` holds the duty keys it reminded, one a line (e.g.
    "contact:{pairing}:{day}"); an escalated lapse: one row per lapse ("esc:…", no duties)."""

    __tablename__ = "reminder_marks"
    __table_args__ = (
        # A sweep's chunk reads its cadres' claims of the day by this.
        Index("ix_reminder_marks_cadre_stage", "cadre_id", "stage_on"),
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"))
    stage_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime]
    duties: Mapped[str | None] = mapped_column(Text)
