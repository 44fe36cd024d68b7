"""`RosterJournalEntry`: mapped on the Core table `roster_journal` (storage/tables/roster_journal_entry.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.roster_journal_entry import roster_journal


class RosterJournalEntry(Base):
    """One committed batch of a real roster import: what it created (ids) or the old values
    of what it changed. Written in the batch's own transaction and removed in the import's
    last one, so rows here after a crash are exactly what an unfinished import must take back.
    """

    __tablename__ = "roster_journal"
    __table__ = roster_journal
    id: Mapped[int]
    import_id: Mapped[str]
    entity: Mapped[str]
    kind: Mapped[str]
    payload: Mapped[list[Any]]
