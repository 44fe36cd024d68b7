"""Time the web console on a county built by make_county (not a test).

    python -m bench.make_county --sqlite /tmp/county.db
    python -m bench.bench_console --sqlite /tmp/county.db
    python -m bench.bench_console --pg postgresql://postgres@127.0.0.1:5432/test --schema bench_county

Pages are fetched over HTTP from the running console, signed in as a county admin: the
county overview, a township overview and the household with the most contacts. The export
(a year of the county's contacts to .xlsx) runs in a child process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import func, select

from bench.make_county import DEFAULT_AT
from bot.web import bound_port, build_web_app, start_web
from core.clock import FixedClock
from core.policy import Policy
from storage.db import Database
from storage.models import Contact, Unit, WebUser
from storage.webusers import add_user
from webconsole.app import console_app, mount_console
from webconsole.context import CONSOLE
from webconsole.ledger_file import Export, write_ledger
from webconsole.passwords import hash_password

PASSWORD = "bench-password-1"
TZ = ZoneInfo("Asia/Shanghai")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def _admin(db: Database, at: datetime) -> tuple[Unit, Unit, int]:
    """The county, one township and the busiest household; a county admin account."""
    async with db.transaction() as s:
        county = await s.scalar(select(Unit).where(Unit.depth == 0).order_by(Unit.id))
        assert county is not None
        town = await s.scalar(select(Unit).where(Unit.parent_id == county.id).order_by(Unit.id))
        assert town is not None
        busiest = await s.scalar(
            select(Contact.household_id)
            .group_by(Contact.household_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        if await s.scalar(select(WebUser).where(WebUser.name == "bench")) is None:
            await add_user(s, name="bench", unit_id=county.id, role="admin",
                           password_hash=hash_password(PASSWORD), at=at)  # fmt: skip
    return county, town, int(busiest or 0)


async def _timed(
    http: aiohttp.ClientSession, url: str, repeat: int, figures: dict[Any, Any] | None
) -> list[float]:
    """Seconds per request; with `figures`, the console's minute-long cache is emptied first."""
    times = []
    for _ in range(repeat):
        if figures is not None:
            figures.clear()
        t0 = time.perf_counter()
        async with http.get(url) as r:
            await r.read()
            assert r.status == 200, (url, r.status)
        times.append(time.perf_counter() - t0)
    return times


async def pages(url: str, schema: str | None, name: str, at: datetime, repeat: int) -> None:
    db = Database(url, schema=schema)
    county, town, household = await _admin(db, at)
    app = build_web_app(health=_ok)
    clock = FixedClock(at)
    console = console_app(db=db, clock=clock, policy=Policy(), media_dir="/nonexistent")
    mount_console(app, console)
    figures = console[CONSOLE].figures
    runner = await start_web(app, host="127.0.0.1", port=0)
    base = f"http://127.0.0.1:{bound_port(runner)}/console"
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(base + "/login") as r:
                token = CSRF.search(await r.text()).group(1)  # type: ignore[union-attr]
            async with http.post(
                base + "/login", data={"name": "bench", "password": PASSWORD, "csrf": token}
            ) as r:
                assert r.status == 200
            for what, path, cold in (
                (f"county overview ({county.name}), computed", f"/unit/{county.id}", figures),
                (f"county overview ({county.name}), within the minute", f"/unit/{county.id}", None),
                (f"township overview ({town.name}), computed", f"/unit/{town.id}", figures),
                ("household page (most contacts)", f"/household/{household}", None),
                ("problems board (county)", "/problems", None),
                ("diary reader (county, newest 100)", "/diaries", None),
            ):
                times = await _timed(http, base + path, repeat, cold)
                print(f"| {name} | {what} | {min(times):.2f} | {statistics.median(times):.2f} |")
    finally:
        await runner.cleanup()
        await db.dispose()


async def _ok() -> bool:
    return True


async def export(url: str, schema: str | None, at: datetime, suffix: str) -> dict[str, float]:
    db = Database(url, schema=schema)
    async with db.sessions() as s:
        county = await s.scalar(select(Unit).where(Unit.depth == 0).order_by(Unit.id))
    assert county is not None
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"contacts{suffix}"
        spec = Export("contacts", county.path, at.date() - timedelta(days=365), at.date())
        u0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        rows = await write_ledger(db, spec, target, tz=TZ, today=at.date(), policy=Policy())
        took = time.perf_counter() - t0
        u1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = u1.ru_utime - u0.ru_utime + u1.ru_stime - u0.ru_stime
        size = target.stat().st_size
    await db.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "seconds": took, "cpu_s": cpu, "rss_mb": rss, "file_mb": size / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sqlite", help="SQLite file built by make_county")
    ap.add_argument("--pg", help="PostgreSQL URL")
    ap.add_argument("--schema", default="bench_county")
    ap.add_argument("--at", default=DEFAULT_AT.isoformat())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--export-only", choices=(".xlsx", ".csv"), help=argparse.SUPPRESS)
    ap.add_argument("--no-export", action="store_true")
    args = ap.parse_args()
    at = datetime.fromisoformat(args.at).astimezone(TZ)
    targets = []
    if args.sqlite:
        targets.append(("SQLite", f"sqlite:///{args.sqlite}", None))
    if args.pg:
        targets.append(("PostgreSQL", args.pg, args.schema))
    if args.export_only:
        _, url, schema = targets[0]
        print(json.dumps(asyncio.run(export(url, schema, at, args.export_only))))
        return
    print("| database | page | best s | median s |")
    print("|---|---|---|---|")
    for name, url, schema in targets:
        asyncio.run(pages(url, schema, name, at, args.repeat))
    if args.no_export:
        return
    print(
        "\n| database | export | rows | seconds | rows/s | our CPU s | rows per CPU s"
        " | peak RSS MB | file MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, url, schema in targets:
        for suffix in (".xlsx", ".csv"):
            db_args = (
                ["--sqlite", url.removeprefix("sqlite:///")]
                if schema is None
                else ["--pg", url, "--schema", schema]
            )
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.bench_console",
                    *db_args,
                    "--at",
                    args.at,
                    "--export-only",
                    suffix,
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"| {name} | contacts, 1 year, county ({suffix}) | {r['rows']:,} | {r['seconds']:.1f} | "
                f"{r['rows'] / r['seconds']:,.0f} | {r['cpu_s']:.1f} | "
                f"{r['rows'] / r['cpu_s']:,.0f} | {r['rss_mb']:.0f} | {r['file_mb']:.0f} |"
            )


if __name__ == "__main__":
    main()
