"""`SweepRound`: mapped on the Core table `sweep_rounds` (storage/tables/sweep_round.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.sweep_round import sweep_rounds


class SweepRound(Base):
    """A day's reminder round, its messages derived by the dispatcher as it sends them
    (storage/sweep_rounds.py)."""

    __tablename__ = "sweep_rounds"
    __table__ = sweep_rounds
    id: Mapped[int]
    stage_on: Mapped[date]
    lang: Mapped[str]
    opened_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    pass_due: Mapped[date | None]
    after_cadre: Mapped[int]
    done_at: Mapped[datetime | None]
