"""Time the daily reminder sweep alone on a synthetic county (not a test).

    python -m bench.bench_sweep --sqlite /tmp/county.db --at 2026-11-27T09:00:00+08:00
    python -m bench.bench_sweep --pg postgresql://postgres@127.0.0.1:5432/test --schema bench_million

Build the data with bench/make_county.py (sweep a copy: the sweep writes marks and outbox
rows). Before each run the outbox and the reminder marks are emptied (TRUNCATE on
PostgreSQL), so each run does the full work; after the last they are emptied again. Prints one Markdown row per day: duties,
messages, wall seconds, this process's CPU seconds (SQLite runs inside the process; the
PostgreSQL server's CPU is not counted there), on PostgreSQL the CPU seconds of this process's
server backends (read from /proc: the server must run on this machine), and the process's peak
RSS so far — run one day per process for a per-day peak. Uses only `run_sweep`, so it times
older versions of the sweep too.

`--round` times what the daily job does since reminder rounds (reminders/rounds.py): the
job (`open_round`: the day's round, no message) and, apart, the whole round derived as the
dispatcher derives it while sending (`RoundFeeder.feed`, `--ahead` rows at a time): its
total, and per batch the longest (each batch holds the claims' lock).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
from datetime import datetime

from sqlalchemy import delete, text

from core.policy import Policy
from reminders.sweep import run_sweep
from storage.db import Database
from storage.models import OutboxMessage, ReminderMark


async def _forget(db: Database, rounds: bool = False) -> None:
    async with db.transaction() as s:
        if db.engine.dialect.name == "postgresql":
            # Emptied, not deleted: the next run's inserts would otherwise check the unique
            # keys against the last run's dead rows (the same keys: the same day).
            await s.execute(text("TRUNCATE outbox, reminder_marks"))
            if rounds:
                await s.execute(text("TRUNCATE sweep_rounds"))
            return
        await s.execute(delete(OutboxMessage))
        await s.execute(delete(ReminderMark))
        if rounds:
            await s.execute(text("DELETE FROM sweep_rounds"))


def _own_ports() -> list[int]:
    """Local TCP ports of this process's sockets (its connections to the server)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def _server_cpu(db: Database) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving this process."""
    async with db.sessions() as s:
        pids = (
            await s.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(:ports)"),
                {"ports": _own_ports()},
            )
        ).all()
    return {pid: _cpu_of(pid) for pid in pids}


def _cpu_of(pid: int) -> float:
    """User and system CPU seconds of a process on this machine."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Meter:
    """Wall, this process's CPU and (PostgreSQL) its server backends' CPU since made."""

    def __init__(self, db: Database, server: dict[int, float]) -> None:
        self.db, self.server = db, server
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    @classmethod
    async def start(cls, db: Database) -> _Meter:
        pg = db.engine.dialect.name == "postgresql"
        return cls(db, await _server_cpu(db) if pg else {})

    async def read(self) -> tuple[float, float, str]:
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        used = ""
        if self.db.engine.dialect.name == "postgresql":
            after = await _server_cpu(self.db)
            used = f"{sum(v - self.server.get(pid, 0.0) for pid, v in after.items()):.2f}"
        return wall, cpu, used


async def run_round(
    url: str, schema: str | None, name: str, days: list[datetime], ahead: int
) -> None:
    from reminders.rounds import RoundFeeder, open_round

    db = Database(url, schema=schema)
    policy = Policy()
    try:
        for at in days:
            await _forget(db, rounds=True)
            meter = await _Meter.start(db)
            await open_round(db, at, policy)
            wall, cpu, used = await meter.read()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"| {name} job | {at:%m-%d} | – | 0 | {wall:.2f} | {cpu:.2f} | {used} | {rss:.0f} |",
                flush=True,
            )
            feeder = RoundFeeder(db, policy)
            meter = await _Meter.start(db)
            duties = rows = calls = 0
            longest = 0.0
            while True:
                t = time.perf_counter()
                fed = await feeder.feed(now=at, want=ahead)
                longest = max(longest, time.perf_counter() - t)
                if not fed.batches:
                    break
                duties, rows, calls = duties + fed.duties, rows + fed.enqueued, calls + 1
            wall, cpu, used = await meter.read()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"| {name} derived ({calls} feeds of {ahead}, longest {longest:.2f} s) "
                f"| {at:%m-%d} | {duties:,} | {rows:,} | {wall:.2f} | {cpu:.2f} | {used} "
                f"| {rss:.0f} |",
                flush=True,
            )
        await _forget(db, rounds=True)
    finally:
        await db.dispose()


async def run(url: str, schema: str | None, name: str, days: list[datetime]) -> None:
    db = Database(url, schema=schema)
    policy = Policy()
    try:
        for at in days:
            await _forget(db)
            pg = db.engine.dialect.name == "postgresql"
            server = await _server_cpu(db) if pg else {}
            cpu, wall = time.process_time(), time.perf_counter()
            result = await run_sweep(db, at, policy, keep=False)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            used = ""
            if pg:
                after = await _server_cpu(db)
                used = f"{sum(v - server.get(pid, 0.0) for pid, v in after.items()):.2f}"
            print(
                f"| {name} | {at:%m-%d} | {result.duties:,} | {result.enqueued:,} "
                f"| {wall:.2f} | {cpu:.2f} | {used} | {rss:.0f} |",
                flush=True,
            )
        await _forget(db)
    finally:
        await db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sqlite", help="SQLite file built by make_county (a copy: it is written)")
    ap.add_argument("--pg", help="PostgreSQL URL")
    ap.add_argument("--schema", default="bench_county")
    ap.add_argument("--at", action="append", help="sweep moments (default 11-27 and 11-18)")
    ap.add_argument("--label", default="", help="added to the database name in the table")
    ap.add_argument("--round", action="store_true", help="the day's round and its derivation")
    ap.add_argument("--ahead", type=int, default=500, help="rows a feed derives (--round)")
    args = ap.parse_args()
    days = [
        datetime.fromisoformat(a)
        for a in args.at or ["2026-11-27T09:00:00+08:00", "2026-11-18T09:00:00+08:00"]
    ]
    print("| database | day | duties | messages | wall s | CPU s | server CPU s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    if args.sqlite:
        url, label = f"sqlite:///{args.sqlite}", f"SQLite{args.label}"
        if args.round:
            asyncio.run(run_round(url, None, label, days, args.ahead))
        else:
            asyncio.run(run(url, None, label, days))
    if args.pg:
        label = f"PostgreSQL{args.label}"
        if args.round:
            asyncio.run(run_round(args.pg, args.schema, label, days, args.ahead))
        else:
            asyncio.run(run(args.pg, args.schema, label, days))
    if not (args.sqlite or args.pg):
        ap.error("give --sqlite FILE and/or --pg URL")


if __name__ == "__main__":
    main()
