"""The `JobRun` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base


class JobRun(Base):
    """A scheduled run claimed in the database, so a rerun or a second process skips it."""

    __tablename__ = "job_runs"
    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(50), primary_key=True)
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    finished_at: Mapped[datetime | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
