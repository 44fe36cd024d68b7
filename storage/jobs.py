"""Scheduled runs claimed in `job_runs`, so a rerun or a second process does not repeat one."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_ignore, try_advisory_xact_lock
from storage.models import JobRun

# The scheduled jobs' names (here so that light CLI commands need not import the scheduler).
SWEEP, DIGEST, REVIEW, DISPATCH = "sweep", "digest", "review", "dispatch"

_T: Table = JobRun.__table__  # type: ignore[assignment]


def lock_key(job: str) -> int:
    """A stable 32-bit advisory-lock key for a job name (same in every process)."""
    return zlib.crc32(f"bangfu:job:{job}".encode())


async def lock_job(session: AsyncSession, job: str) -> bool:
    """Try the job's advisory lock, held until the session's transaction ends (PostgreSQL)."""
    return await try_advisory_xact_lock(session, lock_key(job))


async def try_claim(
    session: AsyncSession,
    job: str,
    run_key: str,
    *,
    worker: str,
    now: datetime,
    stale_after: timedelta,
) -> bool:
    """Claim (job, run_key) for `worker`; True only for the one claimant.

    A claim never finished and older than `stale_after` (its process died mid-run) may be
    claimed again: the jobs are idempotent, so a rerun of a half-done run is safe.
    """
    row = {"job": job, "run_key": run_key, "claimed_at": now, "claimed_by": worker, "detail": {}}
    stmt = insert_ignore(session, _T, ["job", "run_key"]).returning(_T.c.job)
    if (await session.execute(stmt, [row])).all():
        return True
    result = await session.execute(
        update(_T)
        .where(
            _T.c.job == job,
            _T.c.run_key == run_key,
            _T.c.finished_at.is_(None),
            _T.c.claimed_at < now - stale_after,
        )
        .values(claimed_at=now, claimed_by=worker)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(
    session: AsyncSession,
    job: str,
    run_key: str,
    *,
    worker: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> bool:
    result = await session.execute(
        update(_T)
        .where(_T.c.job == job, _T.c.run_key == run_key, _T.c.claimed_by == worker)
        .values(finished_at=now, detail=detail or {})
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(session: AsyncSession, job: str, run_key: str, *, worker: str) -> None:
    """Drop an unfinished claim (the run failed), so a later start catches it up."""
    await session.execute(
        delete(_T).where(
            _T.c.job == job,
            _T.c.run_key == run_key,
            _T.c.claimed_by == worker,
            _T.c.finished_at.is_(None),
        )
    )


async def get_run(session: AsyncSession, job: str, run_key: str) -> JobRun | None:
    return await session.scalar(select(JobRun).where(JobRun.job == job, JobRun.run_key == run_key))
