"""The `AuditLog` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class AuditLog(Base):
    """Who changed what: every write a person causes leaves a row here."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))  # "cadre:12", "cli", "telegram:5551"
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(30), default="")
    entity_id: Mapped[str] = mapped_column(String(50), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
