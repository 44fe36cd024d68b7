"""The `HouseholdState` table."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class HouseholdState(Base):
    """Kept state of one household: the last live duty contact and home visit by any cadre.

    The latest dates of the household's `contact_state` rows, kept by database triggers on
    `contact_state` (created by the migration), so in the transaction of every contact
    written, undone, corrected or moved. The digests and the console read one row per
    household instead of grouping every cadre's state; `bangfu doctor` recomputes it from
    the contacts and reports drift.
    """

    __tablename__ = "household_state"
    household_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    last_contact_on: Mapped[date | None] = mapped_column(Date)  # call or visit
    last_visit_on: Mapped[date | None] = mapped_column(Date)
