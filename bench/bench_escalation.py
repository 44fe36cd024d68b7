"""Time escalation on a synthetic county and take its peak Python heap (not a test).

    python -m bench.make_county --sqlite /tmp/county.db
    python -m bench.bench_escalation --sqlite /tmp/county.db --chunk 2000 --chunk 1000000000

Each run works on a fresh copy of the file (escalation claims what it names, so a second run
on the same data would find nothing). The run is at --at (default 2026-12-02 10:00, when
November's missing calls are lapses). For each --chunk: wall time of one run, then the peak
heap (tracemalloc) of a second run on another copy; a chunk larger than the county's cadres
is the whole county at once (what the code did before it was chunked).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

from core.policy import Policy
from reminders.escalate import run_escalation
from storage.db import Database

DEFAULT_AT = "2026-12-02T10:00:00+08:00"


async def _once(path: Path, at: datetime, chunk: int, heap: bool) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        db = Database(f"sqlite:///{copy}")
        try:
            if heap:
                tracemalloc.start()
            began = time.perf_counter()
            result = await run_escalation(db, at, Policy(), chunk=chunk)
            took = time.perf_counter() - began
            peak = tracemalloc.get_traced_memory()[1] / 1e6 if heap else 0.0
            if heap:
                tracemalloc.stop()
        finally:
            await db.dispose()
    what = f"{result.lapses:,} lapses, {result.groups} groups, {result.enqueued} messages"
    return took, peak, what


async def run(path: Path, at: datetime, chunks: list[int]) -> None:
    with sqlite3.connect(path) as conn:  # fold the WAL in, so a copy of the file is whole
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print("| chunk (cadres) | escalation | time s | peak heap MB |")
    print("|---|---|---|---|")
    for chunk in chunks:
        took, _, what = await _once(path, at, chunk, heap=False)
        _, peak, _ = await _once(path, at, chunk, heap=True)
        print(f"| {chunk:,} | {what} | {took:.2f} | {peak:.1f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sqlite", type=Path, required=True, help="SQLite file built by make_county")
    ap.add_argument("--at", default=DEFAULT_AT)
    ap.add_argument("--chunk", type=int, action="append", help="cadres per chunk (repeatable)")
    args = ap.parse_args()
    asyncio.run(run(args.sqlite, datetime.fromisoformat(args.at), args.chunk or [2000]))


if __name__ == "__main__":
    main()
