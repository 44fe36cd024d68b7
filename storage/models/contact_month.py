"""The `ContactMonth` table."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class ContactMonth(Base):
    """Whether a household had a call or visit in a month: `n` live duty contacts, `visits`
    of them home visits (the digests' visits this quarter).

    Kept by database triggers on `contacts` (and on a household's move to another village),
    created by the migration, so every writer keeps it right; the console's 12-month trend
    counts these rows instead of scanning a year of contacts.
    """

    __tablename__ = "contact_months"
    __table_args__ = (Index("ix_contact_months_village_month", "village_id", "month", "n"),)
    household_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the month's first day
    village_id: Mapped[int] = mapped_column(BigId)
    n: Mapped[int] = mapped_column(Integer, default=0)
    visits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
