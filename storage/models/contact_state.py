"""The `ContactState` table."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class ContactState(Base):
    """Kept state of one (cadre, household): the last live call, visit and duty contact.

    Kept by database triggers on `contacts` (created by the migration), in the transaction of
    every write (report, undo, correction, back-dated entry, deletion), so the reminder sweep
    and the digests read it instead of a year of contacts. A pairing's liveness (transfer, end) is read from
    `pairings`, so those writes need no state. `bangfu doctor` recomputes it and reports drift.
    """

    __tablename__ = "contact_state"
    # A household's kept dates whoever made the contact (the digests' coverage and events),
    # and a pair's, read from the index alone.
    __table_args__ = (
        Index(
            "ix_contact_state_household",
            "household_id",
            "cadre_id",
            "last_contact_on",
            "last_visit_on",
        ),
    )
    cadre_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    last_call_on: Mapped[date | None] = mapped_column(Date)
    last_visit_on: Mapped[date | None] = mapped_column(Date)
    last_contact_on: Mapped[date | None] = mapped_column(Date)  # call or visit
