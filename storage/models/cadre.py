"""The `Cadre` table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class Cadre(Base):
    __tablename__ = "cadres"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    rank: Mapped[str] = mapped_column(String(30), default="")
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    phone: Mapped[str] = mapped_column(String(30), unique=True)
    role: Mapped[str] = mapped_column(String(30), default="")
    leave_until: Mapped[date | None] = mapped_column(Date)  # on leave through this day
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
