"""The `diary_entries` table."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Index,
    Table,
    Text,
)

from storage.tables._meta import BigId, Stamp, metadata

# 民情日记: 所访所做 / 所见所闻 / 所思所想, with 民意 views.
diary_entries = Table(
    "diary_entries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), nullable=False),
    Column("household_id", BigId, ForeignKey("households.id")),
    Column("written_on", Date, nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("done", Text, default="", nullable=False),  # 所访所做
    Column("seen", Text, default="", nullable=False),  # 所见所闻
    Column("thoughts", Text, default="", nullable=False),  # 所思所想
    Column("opinion_topics", JSON, default=list, nullable=False),
    Column("opinion", Text, default="", nullable=False),
    Column("deleted_at", Stamp),
    Index("ix_diary_cadre_day", "cadre_id", "written_on"),
    Index("ix_diary_day_id", "written_on", "id"),
)
