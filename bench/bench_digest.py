"""Time the digest and the reminder sweep on a synthetic county.

    python -m bench.bench_digest --sqlite /tmp/county.db
    python -m bench.bench_digest --pg postgresql://postgres@127.0.0.1:5432/test --schema bench_county

Build the county first with bench/make_county.py. Prints one Markdown table row per
measurement: wall time (the first call of the process, best and median of --repeat runs) and
peak Python heap (tracemalloc, a separate run) for the county root and one township; then the
whole weekly job (every group's digest into the outbox) once, and the sweep. Peak process RSS
is printed last. The chart is warmed up first, as `bangfu run` does at start-up (its imports
and font search); `--cold` leaves that to the first digest.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete

from core.policy import Policy
from reminders.digest import collect_digest, render_digest
from reminders.digest_chart import warm_up
from reminders.digest_send import enqueue_digests
from reminders.sweep import run_sweep
from storage.db import Database
from storage.models import OutboxMessage, ReminderMark
from storage.stats import unit_by_path

DEFAULT_AT = "2026-11-23T08:30:00+08:00"
SWEEP_AT = "2026-11-27T09:00:00+08:00"
TOWNSHIP = "博白县/第07镇"


async def _timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float, float]:
    """The first call's time, the best and the median of `repeat` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times), statistics.median(times)


async def _peak_heap(fn: Callable[[], Awaitable[Any]]) -> float:
    """Peak bytes allocated by Python while fn runs, in MB."""
    tracemalloc.start()
    await fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def _row(
    db_name: str, what: str, first: float, best: float, median: float, heap: float | None
) -> None:
    heap_s = f"{heap:.1f}" if heap is not None else "—"
    print(
        f"| {db_name} | {what} | {first:.2f} | {best:.2f} | {median:.2f} | {heap_s} |", flush=True
    )


async def _digest_rows(db: Database, name: str, at: datetime, repeat: int) -> None:
    policy = Policy()
    for path in ("博白县", TOWNSHIP):
        async with db.sessions() as s:
            unit = await unit_by_path(s, path)
        assert unit is not None, f"no unit {path}: build the county first"

        async def stats_only(uid: int = unit.id) -> Any:
            return await collect_digest(db, uid, at, policy)

        async def full(uid: int = unit.id) -> Any:
            d = await collect_digest(db, uid, at, policy)
            assert d is not None
            return render_digest(d)

        _row(name, f"figures, {path}", *await _timed(stats_only, repeat), None)
        _row(
            name, f"digest text+chart, {path}", *await _timed(full, repeat), await _peak_heap(full)
        )


async def _job_rows(db: Database, name: str, at: datetime) -> None:
    policy = Policy()
    async with db.transaction() as s:
        await s.execute(delete(OutboxMessage))
    t0 = time.perf_counter()
    n = await enqueue_digests(db, at, policy)
    took = time.perf_counter() - t0
    _row(name, f"weekly job: {n} groups' digests into the outbox", took, took, took, None)


async def _sweep_row(db: Database, name: str, sweep_at: datetime) -> None:
    policy = Policy()
    # The 27th is a monthly-contact stage day: every pairing not yet called is due. Forget
    # earlier runs' marks and messages, so each benchmark run does the full work.
    async with db.transaction() as s:
        await s.execute(delete(OutboxMessage))
        await s.execute(delete(ReminderMark))
    # keep=False: the result holds counts only, as in the scheduled job.
    heap = await _peak_heap(lambda: run_sweep(db, sweep_at, policy, dry_run=True, keep=False))
    t0 = time.perf_counter()
    result = await run_sweep(db, sweep_at, policy, keep=False)
    took = time.perf_counter() - t0
    what = f"sweep {sweep_at:%m-%d}: {result.duties:,} duties, {result.enqueued:,} messages"
    _row(name, what, took, took, took, heap)


async def run(
    url: str,
    schema: str | None,
    name: str,
    at: datetime,
    sweep_at: datetime,
    repeat: int,
    sweep_only: bool = False,
    no_sweep: bool = False,
    cold: bool = False,
    no_job: bool = False,
) -> None:
    if not cold:
        warm_up()
    db = Database(url, schema=schema)
    try:
        if not sweep_only:
            await _digest_rows(db, name, at, repeat)
            if not no_job:
                await _job_rows(db, name, at)
        if not no_sweep:
            await _sweep_row(db, name, sweep_at)
    finally:
        await db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sqlite", help="SQLite file built by make_county")
    ap.add_argument("--pg", help="PostgreSQL URL")
    ap.add_argument("--schema", default="bench_county")
    ap.add_argument("--at", default=DEFAULT_AT)
    ap.add_argument("--sweep-at", default=SWEEP_AT)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--label", default="", help="added to the database name in the table")
    ap.add_argument("--sweep-only", action="store_true", help="time the reminder sweep only")
    ap.add_argument("--no-sweep", action="store_true", help="time the digests only")
    ap.add_argument("--cold", action="store_true", help="no chart warm-up before the first digest")
    ap.add_argument(
        "--no-job", action="store_true", help="the two digests only, not the weekly job's 31"
    )
    args = ap.parse_args()
    at, sweep_at = datetime.fromisoformat(args.at), datetime.fromisoformat(args.sweep_at)
    print("| database | measurement | first s | best s | median s | peak heap MB |")
    print("|---|---|---|---|---|---|")
    if args.sqlite:
        asyncio.run(
            run(
                f"sqlite:///{args.sqlite}",
                None,
                f"SQLite{args.label}",
                at,
                sweep_at,
                args.repeat,
                args.sweep_only,
                args.no_sweep,
                args.cold,
                args.no_job,
            )
        )
    if args.pg:
        name = f"PostgreSQL{args.label}"
        asyncio.run(
            run(
                args.pg,
                args.schema,
                name,
                at,
                sweep_at,
                args.repeat,
                args.sweep_only,
                args.no_sweep,
                args.cold,
                args.no_job,
            )
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak process RSS (whole run): {rss:.0f} MB")


if __name__ == "__main__":
    main()
