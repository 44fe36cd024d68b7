"""Writing ledgers to .xlsx (streaming, XlsxWriter's constant-memory mode) or .csv, safely.

Dates stay real dates (Excel shows and sorts them as dates); a text cell beginning with
= + - @ is stored as text, never as a formula. The .xlsx adds the per-cadre summary sheet.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from core.policy import Policy
from reminders.digest import duty_start
from storage import ledgers
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


@dataclass(frozen=True)
class _Formats:
    day: Format
    stamp: Format


def _xlsx_row(ws: Worksheet, r: int, row: list[Any], f: _Formats) -> None:
    """One row: text always as text (never a formula, whatever it begins with), dates as
    real Excel dates, numbers as numbers, empty cells left out."""
    for col, value in enumerate(row):
        kind = type(value)
        if kind is str:
            if value:
                ws.write_string(r, col, ILLEGAL_CHARACTERS_RE.sub("", value))
        elif kind is datetime:
            ws.write_datetime(r, col, value, f.stamp)
        elif kind is date:
            ws.write_datetime(r, col, value, f.day)
        elif kind is bool:
            ws.write_boolean(r, col, value)
        elif kind is int or kind is float:
            ws.write_number(r, col, value)
        elif value is not None:
            ws.write_string(r, col, ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def csv_cell(value: Any) -> Any:
    """CSV has no types: dates as ISO text; formula-looking text gets a leading apostrophe."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


async def write_ledger(
    db: Database, spec: Export, target: Path, *, tz: tzinfo, today: date, policy: Policy
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
    db: Database, spec: Export, r: ledgers.Range, p: ledgers.Periods, target: Path
) -> int:
    n = 0
    # utf-8-sig: Excel on Windows opens it as UTF-8 instead of guessing GBK.
    with target.open("w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh)
        out.writerow(_headers(spec.ledger))
        async with db.sessions() as session:
            async for row in _rows(session, spec.ledger, r, p):
                out.writerow([csv_cell(v) for v in row])
                n += 1
    return n


async def _write_xlsx(
    db: Database, spec: Export, r: ledgers.Range, p: ledgers.Periods, target: Path
) -> int:
    # constant_memory: each row goes to disk as it is written (strings inline, no shared
    # table), so a county's year of contacts never sits in memory.
    wb = Workbook(
        str(target),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    f = _Formats(
        wb.add_format({"num_format": "yyyy-mm-dd"}),
        wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
    )
    try:
        n = await _sheet(db, wb, spec.ledger, r, p, f)
        if spec.ledger != "cadres":
            await _sheet(db, wb, "cadres", r, p, f)
    finally:
        wb.close()
    return n


async def _sheet(
    db: Database, wb: Workbook, ledger: str, r: ledgers.Range, p: ledgers.Periods, f: _Formats
) -> int:
    ws = wb.add_worksheet(SHEET_NAMES[ledger])
    headers = _headers(ledger)
    ws.freeze_panes(1, 0)
    for i, h in enumerate(headers):
        ws.set_column(i, i, max(8, min(30, len(h) * 2 + 4)))
    ws.write_row(0, 0, headers)
    n = 0
    async with db.sessions() as session:
        async for row in _rows(session, ledger, r, p):
            n += 1
            _xlsx_row(ws, n, row, f)
    return n
