"""The declarative base of the mapped classes; the tables themselves are Core (storage.tables)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from storage.tables._meta import NAMING, BigId, Stamp, metadata

__all__ = ["NAMING", "Base", "BigId", "Stamp"]


class Base(DeclarativeBase):
    metadata = metadata
