"""The `Problem` table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class Problem(Base):
    """A household's problem or appeal (诉求), followed until resolved and called back.

    `status` is open | resolved; `stage` the appeal's lifecycle: accepted (受理) → handling
    (办理中) → done (已办结) → followed (已回访); a 不满意 call-back reopens it (round + 1).
    """

    __tablename__ = "problems"
    __table_args__ = (Index("ix_problems_cadre_status", "cadre_id", "status"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"))
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"))
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"))
    description: Mapped[str] = mapped_column(Text)
    raised_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
    category: Mapped[str] = mapped_column(String(20), default="其他")
    handler_unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(12), default="accepted")
    satisfaction: Mapped[str] = mapped_column(String(10), default="")
    followed_at: Mapped[datetime | None]
    round: Mapped[int] = mapped_column(Integer, default=0)  # times reopened
