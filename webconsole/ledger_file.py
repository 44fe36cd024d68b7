"""Writing ledgers to .xlsx (sheet XML streamed straight into the zip) or .csv, safely.

Dates stay real dates (Excel shows and sorts them as dates); a text cell beginning with
= + - @ is stored as text, never as a formula. The .xlsx adds the per-cadre summary sheet.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.policy import Policy, duty_start
from storage import ledgers
from storage.core_db import CoreDatabase
from webconsole.xlsx_stream import XlsxStream

if TYPE_CHECKING:
    from storage.db import Database

FORMULA_START = ("=", "+", "-", "@")
SHEET_NAMES = {
    "contacts": "联系台账",
    "diaries": "民情日记",
    "events": "五必访事件",
    "problems": "问题台账",
    "cadres": "干部汇总",
    "households": "户台账",
}
Rows = Callable[[Any, ledgers.Range], AsyncIterator[list[Any]]]


@dataclass(frozen=True)
class Export:
    ledger: str
    path: str  # the unit path
    since: date | None
    until: date | None
    cadre_id: int | None = None  # diaries only: the reader's filters
    topic: str = ""
    keyword: str = ""


def _headers(ledger: str) -> list[str]:
    return {
        "contacts": ledgers.CONTACT_HEADERS,
        "diaries": ledgers.DIARY_HEADERS,
        "events": ledgers.EVENT_HEADERS,
        "problems": ledgers.PROBLEM_HEADERS,
        "households": ledgers.HOUSEHOLD_HEADERS,
        "cadres": ledgers.CADRE_HEADERS,
    }[ledger]


def _periods(today: date, policy: Policy) -> ledgers.Periods:
    return ledgers.Periods(
        duty_start(today, policy.contact_every_months),
        duty_start(today, policy.visit_every_months),
        today,
    )


def _rows(
    session: Any, ledger: str, r: ledgers.Range, p: ledgers.Periods
) -> AsyncIterator[list[Any]]:
    if ledger == "cadres":
        return ledgers.cadres(session, r, p)
    fn: Rows = getattr(ledgers, ledger)
    return fn(session, r)


def csv_cell(value: Any) -> Any:
    """CSV has no types: dates as ISO text; formula-looking text gets a leading apostrophe."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def write_table(target: Path, sheet: str, headers: list[str], rows: Iterable[list[Any]]) -> int:
    """A small table (not a ledger) to .xlsx or .csv with the ledgers' protection.

    Text beginning with = + - @ stays text: inline strings in the .xlsx, a leading apostrophe
    in the .csv. Returns the number of rows below the header.
    """
    n = 0
    if target.suffix.lower() == ".csv":
        with target.open("w", newline="", encoding="utf-8-sig") as fh:
            out = csv.writer(fh)
            out.writerow(headers)
            for row in rows:
                out.writerow([csv_cell(v) for v in row])
                n += 1
        return n
    book = XlsxStream(target)
    try:
        with book.add_sheet(sheet, *_widths(headers)) as ws:
            for row in rows:
                ws.row(row)
                n += 1
    finally:
        book.close()
    return n


async def write_ledger(
    db: Database | CoreDatabase,
    spec: Export,
    target: Path,
    *,
    tz: tzinfo,
    today: date,
    policy: Policy,
) -> int:
    """Write `spec` to `target` (.xlsx or .csv); returns the number of ledger rows."""
    r = ledgers.Range(
        spec.path, spec.since, spec.until, tz, spec.cadre_id, spec.topic, spec.keyword
    )
    p = _periods(today, policy)
    if target.suffix.lower() == ".csv":
        return await _write_csv(db, spec, r, p, target)
    return await _write_xlsx(db, spec, r, p, target)


async def _write_csv(
    db: Database | CoreDatabase, spec: Export, r: ledgers.Range, p: ledgers.Periods, target: Path
) -> int:
    n = 0
    # utf-8-sig: Excel on Windows opens it as UTF-8 instead of guessing GBK.
    with target.open("w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh)
        out.writerow(_headers(spec.ledger))
        batch: list[list[Any]] = []
        async with db.sessions() as session:
            async for row in _rows(session, spec.ledger, r, p):
                batch.append([_CSV.get(type(v), _same)(v) for v in row])
                if len(batch) >= 2000:
                    out.writerows(batch)
                    n += len(batch)
                    batch.clear()
        out.writerows(batch)
        n += len(batch)
    return n


def _same(value: Any) -> Any:
    return value


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


_CSV: dict[type, Callable[[Any], Any]] = {
    str: _csv_text,
    datetime: lambda v: v.strftime("%Y-%m-%d %H:%M"),
    date: lambda v: v.isoformat(),
    type(None): lambda v: "",
}


async def _write_xlsx(
    db: Database | CoreDatabase, spec: Export, r: ledgers.Range, p: ledgers.Periods, target: Path
) -> int:
    # Rows go to the zip stream as they come (strings inline, no shared table), so a
    # county's year of contacts never sits in memory.
    book = XlsxStream(target)
    summary: asyncio.Task[list[list[Any]]] | None = None
    try:
        if spec.ledger != "cadres":
            # The summary's query runs on its own connection while the ledger streams (its
            # few rows per cadre wait in memory), so its fixed cost overlaps the long sheet.
            summary = asyncio.create_task(_all_rows(db, "cadres", r, p))
        n = await _sheet(db, book, spec.ledger, r, p)
        if summary is not None:
            rows = await summary
            with book.add_sheet(SHEET_NAMES["cadres"], *_head("cadres")) as ws:
                for row in rows:
                    ws.row(row)
    finally:
        if summary is not None and not summary.done():
            summary.cancel()
            await asyncio.gather(summary, return_exceptions=True)
        book.close()
    return n


async def _all_rows(
    db: Database | CoreDatabase, ledger: str, r: ledgers.Range, p: ledgers.Periods
) -> list[list[Any]]:
    async with db.sessions() as session:
        return [row async for row in _rows(session, ledger, r, p)]


def _head(ledger: str) -> tuple[list[str], list[float]]:
    return _widths(_headers(ledger))


def _widths(headers: list[str]) -> tuple[list[str], list[float]]:
    return headers, [float(max(8, min(30, len(h) * 2 + 4))) for h in headers]


async def _sheet(
    db: Database | CoreDatabase, book: XlsxStream, ledger: str, r: ledgers.Range, p: ledgers.Periods
) -> int:
    with book.add_sheet(SHEET_NAMES[ledger], *_head(ledger)) as ws:
        async with db.sessions() as session:
            async for row in _rows(session, ledger, r, p):
                ws.row(row)
        return ws.rows - 1  # less the header row
