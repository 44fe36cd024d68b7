"""`HouseholdState`: mapped on the Core table `household_state` (storage/tables/household_state_table.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.household_state_table import household_state


class HouseholdState(Base):
    """Kept state of one household: the last live duty contact and home visit by any cadre.

    The latest dates of the household's `contact_state` rows, kept by database triggers on
    `contact_state` (created by the migration), so in the transaction of every contact
    written, undone, corrected or moved. The digests and the console read one row per
    household instead of grouping every cadre's state; `bangfu doctor` recomputes it from
    the contacts and reports drift.
    """

    __tablename__ = "household_state"
    __table__ = household_state
    household_id: Mapped[int]
    last_contact_on: Mapped[date | None]
    last_visit_on: Mapped[date | None]
