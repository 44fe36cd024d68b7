"""The `Pairing` table."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId

_LIVE = text("active")
# An active pairing whose dates do not cover a digest's day, found by index: partial indexes
# (WHERE active) on both databases. Their PostgreSQL option is added by `whole_schema()`,
# when the whole schema is declared (storage.models.Base: migrations, tests), not here:
# naming a dialect's option makes SQLAlchemy import that dialect to check it, and every
# admin command on SQLite that touches pairings imported PostgreSQL's dialect package (and
# its five drivers' modules) for indexes it never creates. Queries do not read it.
_LIVE_INDEXES = (
    Index("ix_pairings_live_start", "start_date", sqlite_where=_LIVE),
    Index("ix_pairings_live_end", "end_date", sqlite_where=_LIVE),
)


def whole_schema() -> None:
    """Complete the table for DDL on either database (see `_LIVE_INDEXES`)."""
    for index in _LIVE_INDEXES:
        index.dialect_kwargs["postgresql_where"] = _LIVE


class Pairing(Base):
    __tablename__ = "pairings"
    __table_args__ = (
        UniqueConstraint("cadre_id", "household_id"),
        Index("ix_pairings_household_active", "household_id", "active"),
        *_LIVE_INDEXES,
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"))
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why it ended (transfer, roster replaced, household exited): the history stays.
    end_reason: Mapped[str] = mapped_column(String(100), default="", server_default="")
