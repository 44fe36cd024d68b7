"""Time escalation on a synthetic county and take its peak Python heap (not a test).

    python -m bench.make_county --sqlite /tmp/county.db
    python -m bench.bench_escalation --sqlite /tmp/county.db --chunk 2000 --chunk 1000000000
    python -m bench.bench_escalation --pg postgresql://postgres@127.0.0.1:5432/test \\
        --schema bench_county --chunk 2000 --chunk 1000000000

The run is at --at (default 2026-12-02 10:00, when November's missing calls are lapses).
Escalation claims what it names, so every run starts from the same state: on SQLite a fresh
copy of the file, on PostgreSQL the escalation marks and messages deleted first. For each
--chunk: wall time of one run, then the peak heap (tracemalloc) of a second run; a chunk
larger than the county's cadres is the whole county at once (as before it was chunked).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete

from core.policy import Policy
from reminders.escalate import run_escalation
from storage.db import Database
from storage.models import OutboxMessage, ReminderMark

DEFAULT_AT = "2026-12-02T10:00:00+08:00"


@asynccontextmanager
async def _fresh(args: argparse.Namespace) -> AsyncIterator[Database]:
    """A database in the state before any escalation ran."""
    if args.pg:
        db = Database(args.pg, schema=args.schema)
        async with db.transaction() as s:
            await s.execute(delete(ReminderMark).where(ReminderMark.key.like("esc:%")))
            await s.execute(delete(OutboxMessage).where(OutboxMessage.kind == "escalation"))
        try:
            yield db
        finally:
            await db.dispose()
        return
    path: Path = args.sqlite
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        db = Database(f"sqlite:///{copy}")
        try:
            yield db
        finally:
            await db.dispose()


async def _once(args: argparse.Namespace, chunk: int, heap: bool) -> tuple[float, float, str]:
    at = datetime.fromisoformat(args.at)
    async with _fresh(args) as db:
        if heap:
            tracemalloc.start()
        began = time.perf_counter()
        result = await run_escalation(db, at, Policy(), chunk=chunk)
        took = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] / 1e6 if heap else 0.0
        if heap:
            tracemalloc.stop()
    what = f"{result.lapses:,} lapses, {result.groups} groups, {result.enqueued} messages"
    return took, peak, what


async def run(args: argparse.Namespace) -> None:
    if args.sqlite:
        with sqlite3.connect(args.sqlite) as conn:  # fold the WAL in: a copy is then whole
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print("| database | chunk (cadres) | escalation | time s | peak heap MB |")
    print("|---|---|---|---|---|")
    name = "PostgreSQL" if args.pg else "SQLite"
    for chunk in args.chunk or [2000]:
        took, _, what = await _once(args, chunk, heap=False)
        _, peak, _ = await _once(args, chunk, heap=True)
        print(f"| {name} | {chunk:,} | {what} | {took:.2f} | {peak:.1f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite", type=Path, help="SQLite file built by make_county")
    where.add_argument("--pg", help="PostgreSQL URL")
    ap.add_argument("--schema", default="bench_county", help="PostgreSQL schema")
    ap.add_argument("--at", default=DEFAULT_AT)
    ap.add_argument("--chunk", type=int, action="append", help="cadres per chunk (repeatable)")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
