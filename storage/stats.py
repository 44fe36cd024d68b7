"""Set-based figures for a unit's subtree: what the supervisors' digests report.

A pairing is in a unit's scope when its household lives in the subtree (village under the
unit) or its cadre works in the subtree (a department's own cadres). Everything aggregates
in SQL; only a handful of summary rows and capped name lists reach Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import FromClause, Select, and_, case, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    Contact,
    DiaryEntry,
    OutboxMessage,
    Problem,
    SupervisorGroup,
    Unit,
)
from storage.stats_people import (
    NamedCount,
    OverdueEvent,
    behind_in_scope,
    cadres_behind,
    on_leave_in_scope,
    overdue_events,
    unreachable_in_scope,
)
from storage.stats_scope import (
    DUTY_KINDS,
    SCOPE_COLUMNS,
    Window,
    materialized,
    open_events,
    scope_select,
)

__all__ = [
    "Coverage",
    "NamedCount",
    "OverdueEvent",
    "SubUnitLine",
    "UnitStats",
    "Window",
    "active_supervisor_groups",
    "cadres_behind",
    "outbox_key_exists",
    "overdue_events",
    "unit_by_id",
    "unit_by_path",
    "unit_stats",
]


@dataclass(frozen=True)
class Coverage:
    households: int = 0
    contacted_period: int = 0
    contacted_month: int = 0
    visited_quarter: int = 0


@dataclass(frozen=True)
class SubUnitLine:
    unit_id: int
    name: str
    coverage: Coverage


@dataclass
class UnitStats:
    unit_id: int
    unit_name: str
    unit_path: str
    pairings: int = 0
    coverage: Coverage = field(default_factory=Coverage)
    visits_quarter: int = 0
    diaries_period: int = 0
    opinions_period: int = 0
    events_open: int = 0
    events_overdue: int = 0
    problems_raised: int = 0
    problems_resolved: int = 0
    problems_open: int = 0
    behind_total: int = 0
    behind: list[NamedCount] = field(default_factory=list)
    on_leave_total: int = 0
    on_leave: list[NamedCount] = field(default_factory=list)
    unreachable_total: int = 0
    unreachable: list[NamedCount] = field(default_factory=list)
    sub_units: list[SubUnitLine] = field(default_factory=list)


async def unit_by_path(session: AsyncSession, path: str) -> Unit | None:
    return await session.scalar(select(Unit).where(Unit.path == path.strip().strip("/")))


async def unit_by_id(session: AsyncSession, unit_id: int) -> Unit | None:
    return await session.get(Unit, unit_id)


async def active_supervisor_groups(session: AsyncSession) -> list[SupervisorGroup]:
    """Bound supervisors' groups that receive digests, oldest first."""
    rows = await session.scalars(
        select(SupervisorGroup).where(SupervisorGroup.active.is_(True)).order_by(SupervisorGroup.id)
    )
    return list(rows)


HOUSEHOLD_COLUMNS = ["household_id", "wk", "mo", "vq", "nv"]


def _household_marks(scope: FromClause, w: Window) -> Select[Any]:
    """One row per household in scope: 1/0 contacted in the period, in the month, visited in
    the quarter, and the number of visits in the quarter."""
    c = Contact
    since = min(w.period_start, w.contact_since, w.visit_since)
    visit_q = and_(c.kind == "visit", c.occurred_on >= w.visit_since)
    marks = (
        select(
            c.household_id,
            func.max(case((c.occurred_on >= w.period_start, 1), else_=0)).label("wk"),
            func.max(case((c.occurred_on >= w.contact_since, 1), else_=0)).label("mo"),
            func.max(case((visit_q, 1), else_=0)).label("vq"),
            func.sum(case((visit_q, 1), else_=0)).label("nv"),
        )
        .where(
            c.deleted_at.is_(None),
            c.kind.in_(DUTY_KINDS),
            c.occurred_on >= since,
            c.occurred_on <= w.today,
            c.household_id.in_(select(scope.c.household_id)),
        )
        .group_by(c.household_id)
        .subquery("marks")
    )
    hh = select(scope.c.household_id).distinct().subquery("hh")
    return select(
        hh.c.household_id,
        *(func.coalesce(marks.c[k], 0) for k in HOUSEHOLD_COLUMNS[1:]),
    ).select_from(hh.outerjoin(marks, marks.c.household_id == hh.c.household_id))


def _coverage_cols(hh: FromClause) -> list[Any]:
    return [
        func.count().label("n"),
        func.coalesce(func.sum(hh.c.wk), 0).label("wk"),
        func.coalesce(func.sum(hh.c.mo), 0).label("mo"),
        func.coalesce(func.sum(hh.c.vq), 0).label("vq"),
    ]


def _coverage(row: Any) -> Coverage:
    return Coverage(int(row.n), int(row.wk), int(row.mo), int(row.vq))


async def _totals(session: AsyncSession, scope: FromClause, hh: FromClause, st: UnitStats) -> None:
    st.pairings = int(await session.scalar(select(func.count()).select_from(scope)) or 0)
    row = (
        await session.execute(
            select(*_coverage_cols(hh), func.coalesce(func.sum(hh.c.nv), 0).label("nv"))
        )
    ).one()
    st.coverage, st.visits_quarter = _coverage(row), int(row.nv)


async def _sub_units(
    session: AsyncSession, unit: Unit, scope: FromClause, hh: FromClause
) -> list[SubUnitLine]:
    """One coverage line per direct sub-unit, children with no households included."""
    child, u = aliased(Unit), aliased(Unit)
    umap = (
        select(u.id.label("unit_id"), child.id.label("child_id"))
        .select_from(u)
        .join(
            child,
            or_(
                u.path == child.path,
                func.substr(u.path, 1, func.length(child.path) + 1) == child.path + "/",
            ),
        )
        .where(child.parent_id == unit.id)
        .cte("umap")
    )
    via_village = select(umap.c.child_id, scope.c.household_id).join(
        umap, umap.c.unit_id == scope.c.village_id
    )
    via_cadre = select(umap.c.child_id, scope.c.household_id).join(
        umap, umap.c.unit_id == scope.c.cadre_unit_id
    )
    pc = union(via_village, via_cadre).subquery("pc")
    per_child = (
        select(pc.c.child_id, *_coverage_cols(hh))
        .select_from(pc.join(hh, hh.c.household_id == pc.c.household_id))
        .group_by(pc.c.child_id)
        .subquery("per_child")
    )
    rows = await session.execute(
        select(child.id, child.name, per_child.c.n, per_child.c.wk, per_child.c.mo, per_child.c.vq)
        .outerjoin(per_child, per_child.c.child_id == child.id)
        .where(child.parent_id == unit.id)
        .order_by(child.path)
    )
    return [
        SubUnitLine(
            r.id, r.name, Coverage(int(r.n or 0), int(r.wk or 0), int(r.mo or 0), int(r.vq or 0))
        )
        for r in rows
    ]


async def _activity(
    session: AsyncSession, scope: FromClause, hh_table: FromClause, w: Window, st: UnitStats
) -> None:
    """Diaries and 民意 in the period; problems raised and resolved in it, and still open."""
    hh = select(hh_table.c.household_id)
    cadres = select(scope.c.cadre_id)
    diary = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((DiaryEntry.opinion != "", 1), else_=0)), 0),
            ).where(
                DiaryEntry.deleted_at.is_(None),
                DiaryEntry.written_on >= w.period_start,
                DiaryEntry.written_on <= w.today,
                DiaryEntry.cadre_id.in_(cadres),
            )
        )
    ).one()
    st.diaries_period, st.opinions_period = int(diary[0]), int(diary[1])
    p = Problem
    probs = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case(
                            (and_(p.raised_on >= w.period_start, p.raised_on <= w.today), 1),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.coalesce(
                    func.sum(
                        case(
                            (
                                and_(
                                    p.status == "resolved",
                                    p.resolved_at >= w.period_start_at,
                                    p.resolved_at < w.period_end_at,
                                ),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.coalesce(func.sum(case((p.status == "open", 1), else_=0)), 0),
            ).where(p.deleted_at.is_(None), p.raised_on <= w.today, p.household_id.in_(hh))
        )
    ).one()
    st.problems_raised, st.problems_resolved, st.problems_open = (int(x) for x in probs)


async def _events(session: AsyncSession, scope: FromClause, today: date, st: UnitStats) -> None:
    ev = open_events(scope, today).subquery("open_events")
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((ev.c.visit_due_on < today, 1), else_=0)), 0),
            ).select_from(ev)
        )
    ).one()
    st.events_open, st.events_overdue = int(row[0]), int(row[1])


async def unit_stats(session: AsyncSession, unit: Unit, w: Window, *, cap: int) -> UnitStats:
    """Every digest figure for `unit`'s subtree as of `w.today`; name lists capped at `cap`."""
    st = UnitStats(unit_id=unit.id, unit_name=unit.name, unit_path=unit.path)
    async with (
        materialized(session, SCOPE_COLUMNS, scope_select(unit.path, w.today)) as sc,
        materialized(session, HOUSEHOLD_COLUMNS, _household_marks(sc, w)) as hh,
    ):
        await _totals(session, sc, hh, st)
        await _activity(session, sc, hh, w, st)
        await _events(session, hh, w.today, st)
        st.behind_total, st.behind = await behind_in_scope(session, sc, w, cap)
        st.on_leave_total, st.on_leave = await on_leave_in_scope(session, sc, w.today, cap)
        st.unreachable_total, st.unreachable = await unreachable_in_scope(session, sc, cap)
        st.sub_units = await _sub_units(session, unit, sc, hh)
    return st


async def outbox_key_exists(session: AsyncSession, dedupe_key: str) -> bool:
    """Whether a message with this dedupe key was ever enqueued."""
    found = await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    )
    return found is not None
