"""The `ProblemNote` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class ProblemNote(Base):
    """One step in an appeal's history: progress noted, settled, called back, reopened."""

    __tablename__ = "problem_notes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    problem_id: Mapped[int] = mapped_column(BigId, ForeignKey("problems.id"), index=True)
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"))
    kind: Mapped[str] = mapped_column(String(12))  # progress | done | followup | reopen
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]
