"""`ContactMonth`: mapped on the Core table `contact_months` (storage/tables/contact_month.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.contact_month import contact_months


class ContactMonth(Base):
    """Whether a household had a call or visit in a month: `n` live duty contacts, `visits`
    of them home visits (the digests' visits this quarter).

    Kept by database triggers on `contacts` (and on a household's move to another village),
    created by the migration, so every writer keeps it right; the console's 12-month trend
    counts these rows instead of scanning a year of contacts.
    """

    __tablename__ = "contact_months"
    __table__ = contact_months
    household_id: Mapped[int]
    month: Mapped[date]
    village_id: Mapped[int]
    n: Mapped[int]
    visits: Mapped[int]
