"""The `problem_notes` table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    String,
    Table,
    Text,
)

from storage.tables._meta import BigId, Stamp, metadata

# One step in an appeal's history: progress noted, settled, called back, reopened.
problem_notes = Table(
    "problem_notes",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("problem_id", BigId, ForeignKey("problems.id"), index=True, nullable=False),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), nullable=False),
    Column("kind", String(12), nullable=False),  # progress | done | followup | reopen
    Column("text", Text, default="", nullable=False),
    Column("at", Stamp, nullable=False),
)
