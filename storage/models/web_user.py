"""The `WebUser` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class WebUser(Base):
    """An office account of the web console; sees only its unit's subtree."""

    __tablename__ = "web_users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | supervisor | viewer
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
