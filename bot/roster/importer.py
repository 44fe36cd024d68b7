"""The roster import: check every row, then write all of it or nothing, then report.

A real import commits batch by batch (each a short write transaction, so a live bot on the
same SQLite file keeps answering) and keeps a durable journal of what it wrote (a table,
written in each batch's transaction); when anything fails after the first batch, the journal
takes every batch back, and when the process was killed outright, the next import (or
`bangfu roster recover`, or `bangfu run` at start-up) does, so a failed import leaves
nothing applied. One real import runs at a time (storage.roster_journal.import_lock). A dry
run writes in one transaction it rolls back (on SQLite, in a
private copy: bot/cli/roster.py).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.roster.check import RowError, check_rows
from bot.roster.files import RawRow
from core.policy import Policy
from storage.audit import audit_now
from storage.core_db import CoreDatabase
from storage.roster import ApplyCounts, RosterRow, apply_roster
from storage.roster_changes import Elsewhere, Replaced, cadres_elsewhere, replace_unit
from storage.roster_journal import Journal, import_lock, undo
from storage.roster_report import (
    CadreLoad,
    CategoryMiss,
    Uncovered,
    cadre_loads,
    category_misses,
    uncovered_households,
)

if TYPE_CHECKING:
    from storage.db import Database

UNCOVERED_SAMPLE = 20
BATCH_PAUSE_SECONDS = 0.12  # SQLite: the write lock left free this long …
WRITE_SPELL_SECONDS = 0.5  # … after this much writing by a real import

# (stage, done, total): stages are read, check, units, cadres, households, pairings.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class QuotaIssue:
    load: CadreLoad
    quota: int


@dataclass
class ImportReport:
    rows: int
    errors: list[RowError] = field(default_factory=list)
    counts: ApplyCounts | None = None
    over_quota: list[QuotaIssue] = field(default_factory=list)
    under_quota: list[QuotaIssue] = field(default_factory=list)
    # 保康's quota: leaders missing a category, or holding two households of one.
    category_misses: list[CategoryMiss] = field(default_factory=list)
    uncovered_total: int = 0
    uncovered: list[Uncovered] = field(default_factory=list)
    dry_run: bool = False
    # cadre phone → id, household key → id: for callers that build on the import (the sample).
    cadre_ids: dict[str, int] = field(default_factory=dict)
    replaced: Replaced | None = None  # what a --replace import ended
    elsewhere: list[Elsewhere] = field(default_factory=list)  # cadres of another unit
    recovered: int = 0  # journal entries of an unfinished earlier import taken back first

    @property
    def ok(self) -> bool:
        return not self.errors and not self.elsewhere


def outside_unit(rows: Sequence[RosterRow], unit_path: str) -> list[RowError]:
    """Lines whose cadre's unit is not the replaced unit or below it."""
    prefix = unit_path + "/"
    return [
        RowError(r.row, "单位", "outside_unit", {"value": r.unit_path, "unit": unit_path})
        for r in rows
        if r.unit_path != unit_path and not r.unit_path.startswith(prefix)
    ]


def quota_issues(
    loads: Sequence[CadreLoad], policy: Policy
) -> tuple[list[QuotaIssue], list[QuotaIssue]]:
    """Cadres above and below the households their rank should take."""
    over, under = [], []
    for load in loads:
        quota = policy.quota_for(load.rank)
        if load.households > quota:
            over.append(QuotaIssue(load, quota))
        elif load.households < quota:
            under.append(QuotaIssue(load, quota))
    return over, under


async def import_roster(
    db: Database | CoreDatabase,
    raw_rows: Sequence[RawRow],
    *,
    policy: Policy,
    now: datetime,
    actor: str = "cli",
    source: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
    replace_unit_path: str | None = None,
) -> ImportReport:
    """Validate all rows; if any is wrong write nothing, else upsert everything and report.

    With `replace_unit_path` the file is that unit's complete roster: every line must belong
    to it, and what the unit had that the file lacks ends (pairings) or goes inactive.
    """
    total = len(raw_rows)
    checked = check_rows(
        raw_rows,
        (lambda n: progress("check", n, total)) if progress else None,
        today=now.date(),
        allowed_tags=policy.categories.allowed,
    )
    report = ImportReport(rows=total, errors=checked.errors, dry_run=dry_run)
    if not checked.errors and replace_unit_path is not None:
        report.errors = outside_unit(checked.rows, replace_unit_path)
    if report.errors:
        return report
    write = functools.partial(
        _write, db, checked.rows, report, policy=policy, now=now, actor=actor, source=source,
        progress=progress, replace_unit_path=replace_unit_path,
    )  # fmt: skip
    if dry_run:
        return await write(None)
    async with import_lock(db):  # ImportBusy: another import is running
        report.recovered = await undo(db)  # what an import killed earlier left
        journal = Journal()
        try:
            return await write(journal)
        except BaseException:
            if journal.entries:
                await asyncio.shield(undo(db))
            raise


async def _write(
    db: Database | CoreDatabase,
    rows: Sequence[RosterRow],
    report: ImportReport,
    journal: Journal | None,
    *,
    policy: Policy,
    now: datetime,
    actor: str,
    source: str,
    progress: Progress | None,
    replace_unit_path: str | None,
) -> ImportReport:
    total = report.rows
    dry_run = journal is None
    async with db.sessions() as session:
        await session.begin()
        if journal is not None:
            journal.session = session
            sqlite = db.dialect == "sqlite"
            last_pause = time.monotonic()

            async def commit() -> None:
                nonlocal last_pause
                await session.commit()  # the next statement begins the next batch
                # SQLite has one writer: after each half second of writing, leave the lock
                # free a moment, so a bot waiting in its busy handler (which polls every
                # ≤ 100 ms) gets its turn.
                if sqlite and time.monotonic() - last_pause >= WRITE_SPELL_SECONDS:
                    await asyncio.sleep(BATCH_PAUSE_SECONDS)
                    last_pause = time.monotonic()

            journal.commit = commit
        if replace_unit_path is not None:
            phones = [r.cadre_phone for r in rows]
            report.elsewhere = await cadres_elsewhere(session, phones, replace_unit_path)
            if report.elsewhere:
                await session.rollback()
                return report
        report.counts = await apply_roster(
            session, rows, now=now, progress=progress, journal=journal
        )
        if journal is not None:
            journal.commit = None  # the end (replace, audit) is one last transaction
        if replace_unit_path is not None:
            report.replaced = await replace_unit(
                session,
                replace_unit_path,
                kept_pairs=report.counts.pairs,
                kept_cadres=report.counts.cadre_ids,
                kept_households=report.counts.household_ids,
                on=now.date(),
                reason=f"名册更新：{source}"[:100] if source else "名册更新",
                now=now,
            )
        loads = await cadre_loads(session)
        over, under = quota_issues(loads, policy)
        report.over_quota, report.under_quota = over, under
        wanted = policy.categories.wanted()
        if wanted:
            report.category_misses = await category_misses(
                session, loads, policy.categories.leader_ranks, wanted
            )
        report.uncovered_total, report.uncovered = await uncovered_households(
            session, limit=UNCOVERED_SAMPLE
        )
        report.cadre_ids = {load.phone: load.cadre_id for load in loads}
        if dry_run:
            await session.rollback()  # the whole import ran; none of it stays
            return report
        c = report.counts
        await audit_now(
            session,
            at=now,
            actor=actor,
            action="roster.import",
            entity="roster",
            entity_id=source[-50:],
            rows=total,
            units_created=c.units_created,
            cadres=vars(c.cadres),
            households=vars(c.households),
            pairings=vars(c.pairings),
            **_replace_detail(report, replace_unit_path),
        )
        if journal is not None:
            await journal.finish()  # with the last batch: the import is whole, or none of it
        await session.commit()
    return report


def _replace_detail(report: ImportReport, unit_path: str | None) -> dict[str, object]:
    """What a --replace import ended, for the audit log (ids only)."""
    r = report.replaced
    if r is None:
        return {}
    return {
        "replace_unit": unit_path,
        "pairings_ended": [p.id for p in r.pairings],
        "cadres_inactive": [c.id for c in r.cadres],
        "households_inactive": [h.id for h in r.households],
    }
