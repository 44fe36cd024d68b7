"""The `pairings` table."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    text,
)

from storage.tables._meta import BigId, metadata

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


pairings = Table(
    "pairings",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), nullable=False),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("active", Boolean, default=True, nullable=False),
    # Why it ended (transfer, roster replaced, household exited): the history stays.
    Column("end_reason", String(100), default="", server_default="", nullable=False),
    UniqueConstraint("cadre_id", "household_id"),
    Index("ix_pairings_household_active", "household_id", "active"),
    # The sweep's read of a range of cadres' live pairings, from the index alone (the
    # pairing's id is SQLite's rowid, in every index; migration 0019).
    Index("ix_pairings_cadre_live", "cadre_id", "household_id", "active", "start_date", "end_date"),
    *_LIVE_INDEXES,
)
