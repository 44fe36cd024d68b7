"""`AuditLog`: mapped on the Core table `audit_log` (storage/tables/audit_log_table.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.audit_log_table import audit_log


class AuditLog(Base):
    """Who changed what: every write a person causes leaves a row here."""

    __tablename__ = "audit_log"
    __table__ = audit_log
    id: Mapped[int]
    at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    entity: Mapped[str]
    entity_id: Mapped[str]
    detail: Mapped[dict[str, Any]]
