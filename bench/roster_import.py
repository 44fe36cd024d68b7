"""Time a 50,000-row roster import (.xlsx and .csv) on SQLite, and on PostgreSQL if given.

    python bench/roster_import.py [--rows 50000] [--pg postgresql://postgres@127.0.0.1/test]

Prints seconds per phase: write the file, read it, first import, re-import (no changes).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl import Workbook
from sqlalchemy import text

from bench.roster_rows import county_rows
from bot.roster.files import HEADERS, read_roster, write_rows_csv
from bot.roster.importer import import_roster
from core.clock import SystemClock
from core.policy import Policy
from storage.db import Database
from storage.migrate import upgrade


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    print(f"{label:<28} {time.perf_counter() - start:6.1f} s")
    return result


def write_xlsx(path: Path, rows: int) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名册")
    ws.append(list(HEADERS))
    for row in county_rows(rows):
        ws.append(row)
    wb.save(path)


async def imports(db: Database, raw, label: str) -> None:  # type: ignore[no-untyped-def]
    for what in ("first import", "re-import"):
        start = time.perf_counter()
        report = await import_roster(db, raw, policy=Policy(), now=SystemClock().now())
        assert report.ok, report.errors[:3]
        print(f"{label + ' ' + what:<28} {time.perf_counter() - start:6.1f} s")


async def on_postgres(url: str, raw) -> None:  # type: ignore[no-untyped-def]
    schema = f"bench_{secrets.token_hex(3)}"
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        await asyncio.to_thread(upgrade, url, schema=schema)
        db = Database(url, schema=schema)
        await imports(db, raw, "postgresql")
        await db.dispose()
    finally:
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--pg", help="PostgreSQL URL; a throwaway schema is used")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bangfu-bench-"))
    timed("write .csv", write_rows_csv, tmp / "r.csv", county_rows(args.rows))
    timed("write .xlsx", write_xlsx, tmp / "r.xlsx", args.rows)
    timed("read .csv", read_roster, tmp / "r.csv")
    raw = timed("read .xlsx", read_roster, tmp / "r.xlsx")
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    asyncio.run(imports(db, raw, "sqlite"))
    asyncio.run(db.dispose())
    if args.pg:
        asyncio.run(on_postgres(args.pg, raw))


if __name__ == "__main__":
    main()
