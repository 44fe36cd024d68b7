"""The `Deed` table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class Deed(Base):
    """办实事: a practical thing done for a household, when, and its cost or value."""

    __tablename__ = "deeds"
    __table_args__ = (Index("ix_deeds_cadre_day", "cadre_id", "done_on"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"))
    what: Mapped[str] = mapped_column(Text)
    done_on: Mapped[date] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float)  # yuan
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
