"""`Pairing`: mapped on the Core table `pairings` (storage/tables/pairing.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.pairing import pairings, whole_schema

__all__ = ["Pairing", "whole_schema"]


class Pairing(Base):
    __tablename__ = "pairings"
    __table__ = pairings
    id: Mapped[int]
    cadre_id: Mapped[int]
    household_id: Mapped[int]
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    active: Mapped[bool]
    end_reason: Mapped[str]
