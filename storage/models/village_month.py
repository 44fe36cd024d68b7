"""`VillageMonth`: mapped on the Core table `village_months` (storage/tables/village_month.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.village_month import village_months


class VillageMonth(Base):
    """How many of a village's households had a call or visit in a month: the number of its
    `contact_months` rows with a live duty contact (`n` > 0).

    Kept by database triggers on `contact_months` (created by the migration), so in the
    transaction of every contact written, undone or moved and of a household's move to
    another village; the console's 12-month trend sums a unit's villages (a few thousand
    rows) instead of counting its households' months. `bangfu doctor` checks it.
    """

    __tablename__ = "village_months"
    __table__ = village_months
    village_id: Mapped[int]
    month: Mapped[date]
    households: Mapped[int]
