"""`JobRun`: mapped on the Core table `job_runs` (storage/tables/job_run.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.job_run import job_runs


class JobRun(Base):
    """A scheduled run claimed in the database, so a rerun or a second process skips it."""

    __tablename__ = "job_runs"
    __table__ = job_runs
    job: Mapped[str]
    run_key: Mapped[str]
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str]
    finished_at: Mapped[datetime | None]
    detail: Mapped[dict[str, Any]]
