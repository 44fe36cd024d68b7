"""The `help_measures` table."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Table,
    Text,
)

from storage.tables._meta import BigId, Stamp, metadata

# A measure in a household's plan, tagged with help kinds, with its latest progress.
help_measures = Table(
    "help_measures",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("household_id", BigId, ForeignKey("households.id"), index=True, nullable=False),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), nullable=False),
    Column("kinds", JSON, default=list, nullable=False),
    Column("text", Text, nullable=False),
    Column("progress", Text, default="", nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    Column("deleted_at", Stamp),
)
