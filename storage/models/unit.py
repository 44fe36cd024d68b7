"""`Unit`: mapped on the Core table `units` (storage/tables/unit.py)."""

from __future__ import annotations

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.unit import units


class Unit(Base):
    """County → township → village, and departments; `path` is "博白县/顿谷镇/旧门村"."""

    __tablename__ = "units"
    __table__ = units
    id: Mapped[int]
    parent_id: Mapped[int | None]
    name: Mapped[str]
    path: Mapped[str]
    depth: Mapped[int]
