"""The `Unit` table."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class Unit(Base):
    """County → township → village, and departments; `path` is "博白县/顿谷镇/旧门村"."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(500), unique=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
