"""`HelpMeasure`: mapped on the Core table `help_measures` (storage/tables/help_measure.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.help_measure import help_measures


class HelpMeasure(Base):
    """A measure in a household's plan, tagged with help kinds, with its latest progress."""

    __tablename__ = "help_measures"
    __table__ = help_measures
    id: Mapped[int]
    household_id: Mapped[int]
    cadre_id: Mapped[int]
    kinds: Mapped[list[Any]]
    text: Mapped[str]
    progress: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
