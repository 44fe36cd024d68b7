"""`ContactState`: mapped on the Core table `contact_state` (storage/tables/contact_state_table.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.contact_state_table import contact_state


class ContactState(Base):
    """Kept state of one (cadre, household): the last live call, visit and duty contact.

    Kept by database triggers on `contacts` (created by the migration), in the transaction of
    every write (report, undo, correction, back-dated entry, deletion), so the reminder sweep
    and the digests read it instead of a year of contacts. A pairing's liveness (transfer, end) is read from
    `pairings`, so those writes need no state. `bangfu doctor` recomputes it and reports drift.
    """

    __tablename__ = "contact_state"
    __table__ = contact_state
    cadre_id: Mapped[int]
    household_id: Mapped[int]
    last_call_on: Mapped[date | None]
    last_visit_on: Mapped[date | None]
    last_contact_on: Mapped[date | None]
