"""`bangfu score --unit PATH --month YYYY-MM FILE.csv|xlsx`: a unit's 考核 scores, ranked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.digest import parse_at
from bot.config import load_settings
from bot.database import open_database
from core.clock import SystemClock
from core.i18n import t
from core.programme import INDICATORS
from reminders.score import CadreScore, parse_period, unit_scores
from storage.stats import unit_by_path
from webconsole.ledger_file import write_table

SHEET = "考核得分"


def header() -> list[str]:
    names = [t(f"score.indicator.{n}") for n in INDICATORS]
    return ["排名", "干部", "得分", "等级", *names, "扣分", "失分原因"]


def row(rank: int, s: CadreScore) -> list[object]:
    points = [round(i.points, 1) if i.applies else "—" for i in s.indicators]
    misses = "；".join(m for i in s.indicators for m in i.misses)
    return [rank, s.name, s.score, s.grade, *points, s.penalty, misses]


def write(path: Path, scores: list[CadreScore]) -> None:
    """The ranking to .xlsx or .csv; names and reasons that look like formulas stay text."""
    rows = (row(n, s) for n, s in enumerate(scores, start=1))
    write_table(path, SHEET, header(), rows)


async def _export(args: argparse.Namespace) -> int:
    settings = load_settings()
    period = parse_period(args.month or args.quarter)
    if period is None or args.file.suffix.lower() not in (".csv", ".xlsx"):
        print("用法 / usage: --month 2026-11 | --quarter 2026-Q4, FILE.csv|xlsx", file=sys.stderr)
        return 2
    try:
        at = parse_at(args.at, settings.tz)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    as_of = (at or SystemClock(settings.tz).now()).date()  # default: today
    db = open_database(settings, args.url)
    try:
        async with db.sessions() as session:
            unit = await unit_by_path(session, args.unit)
        if unit is None:
            print(f"找不到单位 / no such unit: {args.unit}", file=sys.stderr)
            return 2
        scores = await unit_scores(db, unit.path, period, as_of, settings.policy, settings.tz)
    finally:
        await db.dispose()
    write(args.file, scores)
    print(f"{period.label} {unit.path}: {len(scores)} 人 → {args.file}")
    return 0
