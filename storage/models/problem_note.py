"""`ProblemNote`: mapped on the Core table `problem_notes` (storage/tables/problem_note.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.problem_note import problem_notes


class ProblemNote(Base):
    """One step in an appeal's history: progress noted, settled, called back, reopened."""

    __tablename__ = "problem_notes"
    __table__ = problem_notes
    id: Mapped[int]
    problem_id: Mapped[int]
    cadre_id: Mapped[int]
    kind: Mapped[str]
    text: Mapped[str]
    at: Mapped[datetime]
