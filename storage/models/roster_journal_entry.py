"""The `RosterJournalEntry` table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class RosterJournalEntry(Base):
    """One committed batch of a real roster import: what it created (ids) or the old values
    of what it changed. Written in the batch's own transaction and removed in the import's
    last one, so rows here after a crash are exactly what an unfinished import must take back.
    """

    __tablename__ = "roster_journal"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[str] = mapped_column(String(32), index=True)
    entity: Mapped[str] = mapped_column(String(30))  # a table name: units, cadres, ...
    kind: Mapped[str] = mapped_column(String(10))  # created | old
    payload: Mapped[list[Any]] = mapped_column(JSON)
