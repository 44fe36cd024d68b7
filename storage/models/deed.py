"""`Deed`: mapped on the Core table `deeds` (storage/tables/deed.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.deed import deeds


class Deed(Base):
    """办实事: a practical thing done for a household, when, and its cost or value."""

    __tablename__ = "deeds"
    __table__ = deeds
    id: Mapped[int]
    household_id: Mapped[int]
    cadre_id: Mapped[int]
    what: Mapped[str]
    done_on: Mapped[date]
    value: Mapped[float | None]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
