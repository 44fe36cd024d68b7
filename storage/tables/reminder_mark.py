"""The `reminder_marks` table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from storage.tables._meta import BigId, Stamp, metadata

# Something reminded once. A sweep's claim: one row per cadre and claim ("remind:
# {cadre}:{day}:{hash}") whose `duties` holds the duty keys it reminded, one a line (e.g.
# "contact:{pairing}:{day}"); an escalated lapse: one row per lapse ("esc:…", no duties).
reminder_marks = Table(
    "reminder_marks",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), nullable=False),
    Column("stage_on", Date, index=True, nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("duties", Text),
    Index("ix_reminder_marks_cadre_stage", "cadre_id", "stage_on"),
)
