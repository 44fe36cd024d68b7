"""`Cadre`: mapped on the Core table `cadres` (storage/tables/cadre.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.cadre import cadres


class Cadre(Base):
    __tablename__ = "cadres"
    __table__ = cadres
    id: Mapped[int]
    name: Mapped[str]
    rank: Mapped[str]
    unit_id: Mapped[int]
    phone: Mapped[str]
    role: Mapped[str]
    leave_until: Mapped[date | None]
    active: Mapped[bool]
    created_at: Mapped[datetime]
