"""The roster import: check every row, then write all of it in one transaction, then report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.roster.check import RowError, check_rows
from bot.roster.files import RawRow
from core.policy import Policy
from storage.audit import audit
from storage.db import Database
from storage.roster import ApplyCounts, apply_roster
from storage.roster_report import CadreLoad, Uncovered, cadre_loads, uncovered_households

UNCOVERED_SAMPLE = 20

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
    uncovered_total: int = 0
    uncovered: list[Uncovered] = field(default_factory=list)
    dry_run: bool = False
    # cadre phone → id, household key → id: for callers that build on the import (the sample).
    cadre_ids: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


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
    db: Database,
    raw_rows: Sequence[RawRow],
    *,
    policy: Policy,
    now: datetime,
    actor: str = "cli",
    source: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate all rows; if any is wrong write nothing, else upsert everything and report."""
    total = len(raw_rows)
    checked = check_rows(raw_rows, (lambda n: progress("check", n, total)) if progress else None)
    report = ImportReport(rows=total, errors=checked.errors, dry_run=dry_run)
    if checked.errors:
        return report
    async with db.sessions() as session:
        await session.begin()
        report.counts = await apply_roster(session, checked.rows, now=now, progress=progress)
        loads = await cadre_loads(session)
        over, under = quota_issues(loads, policy)
        report.over_quota, report.under_quota = over, under
        report.uncovered_total, report.uncovered = await uncovered_households(
            session, limit=UNCOVERED_SAMPLE
        )
        report.cadre_ids = {load.phone: load.cadre_id for load in loads}
        if dry_run:
            await session.rollback()  # the whole import ran; none of it stays
            return report
        c = report.counts
        audit(
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
        )
        await session.commit()
    return report
