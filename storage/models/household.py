"""`Household`: mapped on the Core table `households` (storage/tables/household.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.household import HOUSEHOLD_EXITED, households

__all__ = ["HOUSEHOLD_EXITED", "Household"]


class Household(Base):
    __tablename__ = "households"
    __table__ = households
    id: Mapped[int]
    code: Mapped[str | None]
    head_name: Mapped[str]
    village_id: Mapped[int]
    category: Mapped[str]
    members: Mapped[int]
    poverty_cause: Mapped[str]
    phone: Mapped[str]
    status: Mapped[str]
    created_at: Mapped[datetime]
    party_member: Mapped[bool]
    birth_date: Mapped[date | None]
    party_date: Mapped[date | None]
    tags: Mapped[list[Any]]
    poverty_status: Mapped[str | None]
    status_date: Mapped[date | None]
