"""The `help_plans` table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    String,
    Table,
)

from storage.tables._meta import BigId, Stamp, metadata

# A household's help plan (帮扶计划 / 连心卡): income target and 主导产业.
help_plans = Table(
    "help_plans",
    metadata,
    Column("household_id", BigId, ForeignKey("households.id"), primary_key=True),
    Column("income_target", Float),  # yuan per year
    Column("main_industry", String(100), default="", nullable=False),
    Column("updated_at", Stamp, nullable=False),
)
