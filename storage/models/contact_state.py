"""The `ContactState` table."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class ContactState(Base):
    """Kept state of one (cadre, household): the last live call, visit and duty contact.

    Kept by database triggers on `contacts` (created by the migration), in the transaction of
    every write (report, undo, correction, back-dated entry, deletion), so the reminder sweep
    reads it instead of a year of contacts. A pairing's liveness (transfer, end) is read from
    `pairings`, so those writes need no state. `bangfu doctor` recomputes it and reports drift.
    """

    __tablename__ = "contact_state"
    cadre_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    last_call_on: Mapped[date | None] = mapped_column(Date)
    last_visit_on: Mapped[date | None] = mapped_column(Date)
    last_contact_on: Mapped[date | None] = mapped_column(Date)  # call or visit
