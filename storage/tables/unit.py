"""The `units` table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
)

from storage.tables._meta import BigId, metadata

# County → township → village, and departments; `path` is "博白县/顿谷镇/旧门村".
units = Table(
    "units",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("parent_id", BigId, ForeignKey("units.id"), index=True),
    Column("name", String(100), nullable=False),
    Column("path", String(500), unique=True, nullable=False),
    Column("depth", Integer, default=0, nullable=False),
)
