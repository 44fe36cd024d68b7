"""The diary/民意 reader and the problems board, filtered within a unit's subtree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.diary_filter import DiaryFilter, diary_filtered
from storage.models import Cadre, DiaryEntry, Household, Problem, Unit
from storage.unit_paths import units_under

PAGE = 100


def diary_rows(f: DiaryFilter) -> Any:
    """Diaries by cadres of the subtree or about its households, newest first."""
    under = units_under(f.path)
    hh = aliased(Household)
    cu = aliased(Unit)
    stmt = (
        select(DiaryEntry, Cadre.name.label("cadre"), cu.path.label("cadre_unit"), hh.head_name)
        .join(Cadre, Cadre.id == DiaryEntry.cadre_id)
        .join(cu, cu.id == Cadre.unit_id)
        .outerjoin(hh, hh.id == DiaryEntry.household_id)
        .where(
            DiaryEntry.deleted_at.is_(None),
            or_(Cadre.unit_id.in_(under), hh.village_id.in_(under)),
        )
    )
    if f.before is not None:
        day, last_id = f.before
        stmt = stmt.where(
            or_(
                DiaryEntry.written_on < day,
                and_(DiaryEntry.written_on == day, DiaryEntry.id < last_id),
            )
        )
    # Newest first along ix_diary_day_id: a page reads its rows, not the whole subtree's.
    return diary_filtered(stmt, f).order_by(DiaryEntry.written_on.desc(), DiaryEntry.id.desc())


async def diaries(session: AsyncSession, f: DiaryFilter, *, limit: int = PAGE) -> list[Any]:
    return list(await session.execute(diary_rows(f).limit(limit)))


async def diary_in_scope(
    session: AsyncSession, diary_id: int, scope: str
) -> tuple[DiaryEntry, Cadre] | None:
    row = (
        await session.execute(
            diary_rows(DiaryFilter(scope)).where(DiaryEntry.id == diary_id).add_columns(Cadre)
        )
    ).first()
    return (row[0], row[-1]) if row else None


@dataclass(frozen=True)
class ProblemLine:
    id: int
    household_id: int
    household: str
    village: str
    cadre_id: int
    cadre: str
    description: str
    raised_on: date
    status: str
    resolved_on: date | None
    age_days: int
    category: str = ""  # the appeal's: 类别, handling unit, deadline, stage, call-back
    handler: str = ""
    due_on: date | None = None
    stage: str = ""
    satisfaction: str = ""


async def problems(
    session: AsyncSession,
    path: str,
    status: str,
    today: date,
    overdue_days: int,
    tz: tzinfo,
    *,
    limit: int = PAGE,
) -> tuple[dict[str, int], list[ProblemLine]]:
    """Counts (open, overdue, resolved) in the subtree and the lines of one status, oldest first."""
    village, handler = aliased(Unit), aliased(Unit)
    under = units_under(path)
    late = today.toordinal() - overdue_days
    base = (
        select(
            Problem,
            Household.head_name,
            village.name.label("village"),
            Cadre.name.label("cadre"),
            func.coalesce(handler.name, "").label("handler"),
        )
        .join(Household, Household.id == Problem.household_id)
        .join(village, village.id == Household.village_id)
        .join(Cadre, Cadre.id == Problem.cadre_id)
        .outerjoin(handler, handler.id == Problem.handler_unit_id)
        .where(Problem.deleted_at.is_(None), Household.village_id.in_(under))
    )
    cutoff = date.fromordinal(late)
    # An appeal is overdue past its own deadline; a problem without one after `overdue_days`.
    overdue = and_(
        Problem.status == "open",
        or_(
            Problem.due_on < today,
            and_(Problem.due_on.is_(None), Problem.raised_on < cutoff),
        ),
    )
    counts_row = (
        await session.execute(
            select(
                func.count().filter(Problem.status == "open"),
                func.count().filter(overdue),
                func.count().filter(Problem.status == "resolved"),
            )
            .select_from(Problem)
            .join(Household, Household.id == Problem.household_id)
            .where(Problem.deleted_at.is_(None), Household.village_id.in_(under))
        )
    ).one()
    counts = {
        "open": int(counts_row[0]),
        "overdue": int(counts_row[1]),
        "resolved": int(counts_row[2]),
    }
    if status == "overdue":
        stmt = base.where(overdue).order_by(Problem.raised_on, Problem.id)
    elif status == "resolved":
        stmt = base.where(Problem.status == "resolved").order_by(
            Problem.resolved_at.desc(), Problem.id
        )
    else:
        stmt = base.where(Problem.status == "open").order_by(Problem.raised_on, Problem.id)
    lines = []
    for p, head, vname, cname, hname in await session.execute(stmt.limit(limit)):
        resolved_on = p.resolved_at.astimezone(tz).date() if p.resolved_at else None
        end = resolved_on or today
        lines.append(
            ProblemLine(
                p.id,
                p.household_id,
                head,
                vname,
                p.cadre_id,
                cname,
                p.description,
                p.raised_on,
                p.status,
                resolved_on,
                (end - p.raised_on).days,
                p.category,
                hname,
                p.due_on,
                p.stage,
                p.satisfaction,
            )
        )
    return counts, lines
