"""The `Invite` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class Invite(Base):
    """A one-time enrolment code, stored as a SHA-256 hash."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # cadre | group
    cadre_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("cadres.id"))
    unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str] = mapped_column(String(150), default="")
