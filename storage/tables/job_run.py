"""The `job_runs` table."""

from __future__ import annotations

from sqlalchemy import JSON, Column, String, Table

from storage.tables._meta import Stamp, metadata

# A scheduled run claimed in the database, so a rerun or a second process skips it.
job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(50), primary_key=True),
    Column("run_key", String(50), primary_key=True),
    Column("claimed_at", Stamp, nullable=False),
    Column("claimed_by", String(100), default="", nullable=False),
    Column("finished_at", Stamp),
    Column("detail", JSON, default=dict, nullable=False),
)
