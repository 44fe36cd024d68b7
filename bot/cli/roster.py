"""`bangfu roster import FILE`, `bangfu roster recover` and `bangfu roster template FILE.xlsx`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from bot.cli import adminkit
from bot.cli.adminkit import AdminError, admin_command, say, say_first
from bot.config import Settings, load_settings
from bot.database import open_core_database
from bot.roster.check import RowError
from bot.roster.files import RosterFileError, read_roster, write_template
from bot.roster.importer import ImportReport, QuotaIssue, import_roster
from core.i18n import t
from core.names import normalize_path
from core.policy import QUOTA_PRESET_ALIASES, Policy
from storage.batch import Tally
from storage.cadres import unit_by_path
from storage.core_db import CoreDatabase, is_sqlite
from storage.roster_journal import ImportBusy, recover
from storage.roster_report import CadreLoad
from storage.snapshot import sqlite_copy

MAX_ERRORS_SHOWN = 200
MAX_QUOTA_SHOWN = 20
T = TypeVar("T")
PROGRESS_FROM = 5000  # smaller files finish before anyone wonders


def _progress(stage: str, done: int, total: int) -> None:
    if stage in ("read", "check") or total >= PROGRESS_FROM:
        say(f"roster.progress_{stage}", file=sys.stderr, done=done, total=total)


def _policy(base: Policy, preset: str | None) -> Policy:
    if preset is None:
        return base
    return base.model_copy(
        update={"quota_preset": QUOTA_PRESET_ALIASES.get(preset, preset), "quotas": None}
    )


@admin_command
async def _import(args: argparse.Namespace) -> int:
    if args.replace != bool(args.unit):
        raise AdminError("roster.replace_needs_unit")
    unit = normalize_path(args.unit) if args.unit else None
    settings = load_settings()
    policy = _policy(settings.policy, args.policy)
    say("roster.reading", file=sys.stderr, path=args.file)
    try:
        raw = read_roster(args.file, lambda n: _progress("read", n, n))
    except RosterFileError as exc:
        raise AdminError(f"roster_file.{exc.key}", **exc.params) from None
    async with _target(settings, dry_run=args.dry_run) as db:
        if unit is not None:
            await _known_unit(db, unit)
        try:
            report = await import_roster(
                db,
                raw,
                policy=policy,
                now=adminkit.admin_clock(settings).now(),
                source=args.file.name,
                dry_run=args.dry_run,
                progress=_progress,
                replace_unit_path=unit,
            )
        except ImportBusy:
            raise AdminError("roster.busy") from None
    if report.recovered:
        say("roster.recovered", file=sys.stderr, count=report.recovered)
    if not report.ok:
        print_errors(report.errors)
        _print_elsewhere(report)
        return 1
    print_report(report, policy)
    print_replaced(report)
    return 0


@admin_command
async def _recover(args: argparse.Namespace) -> int:
    """Take back what an import killed half-way left (the next import does it too)."""
    db = open_core_database(load_settings())
    try:
        count = await recover(db)
    finally:
        await db.dispose()
    if count is None:
        raise AdminError("roster.busy")
    say("roster.recovered" if count else "roster.recover_none", count=count)
    return 0


@asynccontextmanager
async def _target(settings: Settings, *, dry_run: bool) -> AsyncIterator[CoreDatabase]:
    """The database to import into: for a SQLite dry run, a private copy of it.

    A dry run on the live file would hold its write lock for the whole run; the copy is
    read without one (SQLite's online backup), so the running bot never waits.
    """
    url = settings.database_url
    if dry_run and _sqlite_file(url):
        with sqlite_copy(url) as copy:
            db = CoreDatabase(copy)
            try:
                yield db
            finally:
                await db.dispose()
        return
    db = open_core_database(settings)
    try:
        yield db
    finally:
        await db.dispose()


def _sqlite_file(url: str) -> bool:
    """A SQLite database that exists as a file (a missing one is not created by a copy)."""
    return is_sqlite(url) and Path(make_url(url).database or "").is_file()


async def _known_unit(db: CoreDatabase, path: str) -> None:
    async with db.sessions() as session:
        if await unit_by_path(session, path) is None:
            raise AdminError("invite_cli.unknown_unit", unit=path)


def _print_elsewhere(report: ImportReport) -> None:
    for c in report.elsewhere[:MAX_ERRORS_SHOWN]:
        say("roster.elsewhere", file=sys.stderr, name=c.name, phone=c.phone, unit=c.unit_path)
    if report.elsewhere:
        say("roster_check.failed", file=sys.stderr, count=len(report.elsewhere))


def print_replaced(report: ImportReport) -> None:
    """Every pairing ended and every cadre and household made inactive, one a line."""
    r = report.replaced
    if r is None:
        return
    head = "roster.replace_would" if report.dry_run else "roster.replace_did"
    say(head, pairings=len(r.pairings), cadres=len(r.cadres), households=len(r.households))
    for p in r.pairings:
        say(
            "roster.ended_pairing",
            name=p.cadre_name,
            phone=p.cadre_phone,
            head=p.head_name,
            village=p.village,
            code=p.household_code or "",
        )
    for c in r.cadres:
        say("roster.inactive_cadre", name=c.name, phone=c.detail)
    for h in r.households:
        say("roster.inactive_household", head=h.name, where=h.detail)


def print_errors(errors: list[RowError]) -> None:
    for e in errors[:MAX_ERRORS_SHOWN]:
        zh = t("roster_check.row", "zh", row=e.row, column=e.column, reason=_reason(e, "zh"))
        en = t("roster_check.row", "en", row=e.row, column=e.column, reason=_reason(e, "en"))
        print(f"{zh} / {en}", file=sys.stderr)
    if len(errors) > MAX_ERRORS_SHOWN:
        say("roster_check.more", file=sys.stderr, count=len(errors) - MAX_ERRORS_SHOWN)
    say("roster_check.failed", file=sys.stderr, count=len(errors))


def _reason(e: RowError, lang: str) -> str:
    return t(f"roster_check.{e.key}", lang, **e.params)


def print_report(report: ImportReport, policy: Policy) -> None:
    say("roster.dry_run" if report.dry_run else "roster.done", rows=report.rows)
    counts = report.counts
    assert counts is not None
    say("roster.units", count=counts.units_created)
    for what, tally in (
        ("cadres", counts.cadres),
        ("households", counts.households),
        ("pairings", counts.pairings),
    ):
        say(f"roster.tally_{what}", **_tally(tally))
    preset = policy.quota_preset if policy.quotas is None else "custom"
    say(
        "roster.quota_head",
        preset=preset,
        over=len(report.over_quota),
        under=len(report.under_quota),
    )
    _print_quota("roster.quota_over", report.over_quota)
    _print_quota("roster.quota_under", report.under_quota)
    print_category_misses(report, policy)
    if not report.uncovered_total:
        say("roster.uncovered_none")
        return
    say("roster.uncovered_head", count=report.uncovered_total)
    for u in report.uncovered:
        say("roster.uncovered_item", name=u.head_name, village=u.village_path, code=u.code or "")
    if report.uncovered_total > len(report.uncovered):
        say("roster.uncovered_more", count=report.uncovered_total - len(report.uncovered))


def print_category_misses(report: ImportReport, policy: Policy) -> None:
    """保康's quota: each leader named with the categories missing or taken twice."""
    wanted = policy.categories.wanted()
    if not wanted:
        return
    name = policy.categories.quota_preset or "custom"
    say(
        "roster.category_head",
        preset=name,
        wanted="、".join(wanted),
        count=len(report.category_misses),
    )
    _first_then_more(
        report.category_misses,
        lambda miss: say(
            "roster.category_miss",
            **_leader(miss.load),
            missing="、".join(miss.missing) or "—",
            doubled="、".join(miss.doubled) or "—",
        ),
    )


def _tally(tally: Tally) -> dict[str, Any]:
    return {"created": tally.created, "updated": tally.updated, "unchanged": tally.unchanged}


def _print_quota(key: str, issues: list[QuotaIssue]) -> None:
    _first_then_more(
        issues,
        lambda issue: say(
            key, **_leader(issue.load), count=issue.load.households, quota=issue.quota
        ),
    )


def _first_then_more(items: Sequence[T], show: Callable[[T], None]) -> None:
    say_first(items, show, limit=MAX_QUOTA_SHOWN, more="roster.quota_more")


def _leader(load: CadreLoad) -> dict[str, Any]:
    return {"name": load.name, "rank": load.rank, "phone": load.phone, "unit": load.unit_path}


def _template(args: argparse.Namespace) -> int:
    path: Path = args.file
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    write_template(path)
    say("roster.template_written", path=path)
    return 0
