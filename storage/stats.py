"""Set-based figures for a unit's subtree: what the supervisors' digests report.

A pairing is in a unit's scope when its household lives in the subtree (village under the
unit) or its cadre works in the subtree (a department's own cadres). Everything aggregates
in SQL; only a handful of summary rows and capped name lists reach Python.

The figures are read from the kept state (`contact_state`: each cadre and household's last
call, visit and duty contact; `contact_months`: each household's duty contacts and visits per
month; both kept by triggers) when that state can answer: when no household in scope has a
live duty contact dated after the digest's day (a last date on or before it then tells
whether a contact fell in any period ending on it). Otherwise (a digest as of a past day, the
monthly review) they are counted from the contacts themselves; both give the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    FromClause,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.dialect import is_postgres
from storage.models import (
    Cadre,
    CadreMonth,
    CadreScope,
    Contact,
    ContactMonth,
    ContactState,
    DiaryEntry,
    Event,
    HouseholdScope,
    HouseholdState,
    OutboxMessage,
    Pairing,
    Problem,
    SupervisorGroup,
    Unit,
    UnitBranch,
    UnitDay,
)
from storage.stats_branches import (
    BRANCH_CADRE_COLUMNS,
    branch_cadres,
    branch_diaries,
    branch_events,
    branch_people,
    branch_problems,
    cadres_within,
    deep_cadre_households,
    events_within,
    problems_within,
)
from storage.stats_people import (
    NamedCount,
    OverdueEvent,
    behind_in_scope,
    behind_kept,
    behind_named,
    cadres_behind,
    on_leave_in_scope,
    on_leave_where,
    overdue_events,
    unreachable_in_scope,
    unreachable_kept,
    unreachable_where,
)
from storage.stats_scope import (
    DUTY_KINDS,
    SCOPE_COLUMNS,
    Window,
    materialized,
    open_events,
    problem_count_ranges,
    problem_counts,
    resolved_in,
    scope_select,
)
from storage.unit_paths import in_subtree

__all__ = [
    "Coverage",
    "NamedCount",
    "OverdueEvent",
    "SubUnitLine",
    "UnitStats",
    "Window",
    "active_supervisor_groups",
    "branch_stats_kept",
    "cadres_behind",
    "outbox_keys_existing",
    "overdue_events",
    "unit_by_id",
    "unit_by_path",
    "unit_stats",
    "unit_stats_counted",
    "units_by_ids",
    "units_stats",
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


async def units_by_ids(session: AsyncSession, unit_ids: Sequence[int]) -> list[Unit]:
    """The units of `unit_ids` that exist, in that order, in one statement."""
    found = {u.id: u for u in await session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    return [found[i] for i in unit_ids if i in found]


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
    nv = func.coalesce(func.sum(hh.c.nv), 0) if "nv" in hh.c else literal(0)
    row = (await session.execute(select(*_coverage_cols(hh), nv.label("nv")))).one()
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
            select(*problem_counts(w)).where(
                p.deleted_at.is_(None), p.raised_on <= w.today, p.household_id.in_(hh)
            )
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
    """Every digest figure for `unit`'s subtree as of `w.today`; name lists capped at `cap`.

    From the kept state when it can answer (see the module's note), else from the contacts.
    """
    if w.contact_since.day == 1 and w.visit_since.day == 1:  # duty periods are whole months
        if unit.parent_id is None:
            st = await root_stats_kept(session, unit, w, cap)
        else:
            st = await branch_stats_kept(session, unit, w, cap)
        if st is None:
            st = await _unit_stats_kept(session, unit, w, cap)
        if st is not None:
            return st
    return await unit_stats_counted(session, unit, w, cap=cap)


KEPT_SCOPE_COLUMNS = [*SCOPE_COLUMNS, "pm"]  # pm: the pair's own duty contact this period
KEPT_HOUSEHOLD_COLUMNS = ["household_id", "village_id", "wk", "mo", "vq", "late"]


def _kept_scope(path: str, w: Window) -> Select[Any]:
    """The scope, each pairing with 1/0: its cadre contacted its household this period."""
    cs = ContactState
    return (
        scope_select(path, w.today)
        .add_columns(case((cs.last_contact_on >= w.contact_since, 1), else_=0).label("pm"))
        .outerjoin(
            cs, and_(cs.cadre_id == Pairing.cadre_id, cs.household_id == Pairing.household_id)
        )
    )


def _kept_household_marks(scope: FromClause, w: Window) -> Select[Any]:
    """One row per household in scope, from its kept dates (`household_state`: the latest of
    every cadre's): contacted in the period, in the month, visited in the quarter (1/0), and
    `late`: a live duty contact is dated after `w.today` (then the dates cannot answer)."""
    hs = HouseholdState
    last = hs.last_contact_on
    hh = (
        select(scope.c.household_id, func.max(scope.c.village_id).label("village_id"))
        .group_by(scope.c.household_id)
        .subquery("hh")
    )

    def mark(cond: Any) -> Any:
        return case((cond, 1), else_=0)

    return select(
        hh.c.household_id,
        hh.c.village_id,
        mark(last >= w.period_start),
        mark(last >= w.contact_since),
        mark(hs.last_visit_on >= w.visit_since),
        mark(last > w.today),
    ).select_from(hh.outerjoin(hs, hs.household_id == hh.c.household_id))


async def _units_below(session: AsyncSession, path: str) -> list[Any]:
    """(id, name, path, parent_id) of the units of `path`'s subtree, itself included."""
    return list(
        await session.execute(
            select(Unit.id, Unit.name, Unit.path, Unit.parent_id).where(in_subtree(Unit.path, path))
        )
    )


async def _kept_sub_units(
    session: AsyncSession,
    unit: Unit,
    scope: FromClause,
    hh: FromClause,
    units: list[Any] | None = None,
) -> list[SubUnitLine]:
    """As _sub_units, in two grouped reads: households by their village's sub-unit, then the
    few whose cadre works in another sub-unit than the one their village is in. `units`: the
    units of a subtree holding `unit`'s (_units_below), when the caller has read them."""
    if units is None:
        units = await _units_below(session, unit.path)
    below = [u for u in units if u.path == unit.path or u.path.startswith(unit.path + "/")]
    children = sorted((u for u in below if u.parent_id == unit.id), key=lambda u: u.path)
    if not children:
        return []
    by_path = {c.path: c.id for c in children}
    prefix = len(unit.path) + 1
    pairs = [
        {"unit_id": u.id, "child_id": by_path[u.path[:prefix] + u.path[prefix:].split("/")[0]]}
        for u in below
        if u.path != unit.path and u.path[:prefix] + u.path[prefix:].split("/")[0] in by_path
    ]
    sums: dict[int, list[int]] = {c.id: [0, 0, 0, 0] for c in children}
    async with materialized(
        session, ["unit_id", "child_id"], pairs, key="unit_id", name="digest_sub_units"
    ) as umap:
        vm, cm = umap.alias("vm"), umap.alias("cm")
        by_village = (
            select(vm.c.child_id, *_coverage_cols(hh))
            .select_from(hh.join(vm, vm.c.unit_id == hh.c.village_id))
            .group_by(vm.c.child_id)
        )
        elsewhere = (
            select(cm.c.child_id, scope.c.household_id)
            .select_from(
                scope.join(cm, cm.c.unit_id == scope.c.cadre_unit_id).outerjoin(
                    vm, vm.c.unit_id == scope.c.village_id
                )
            )
            .where(or_(vm.c.child_id.is_(None), vm.c.child_id != cm.c.child_id))
            .distinct()
            .subquery("elsewhere")
        )
        by_cadre = (
            select(elsewhere.c.child_id, *_coverage_cols(hh))
            .select_from(elsewhere.join(hh, hh.c.household_id == elsewhere.c.household_id))
            .group_by(elsewhere.c.child_id)
        )
        for stmt in (by_village, by_cadre):
            for r in await session.execute(stmt):
                acc = sums[int(r.child_id)]
                for i, v in enumerate((r.n, r.wk, r.mo, r.vq)):
                    acc[i] += int(v or 0)
    return [SubUnitLine(c.id, c.name, Coverage(*sums[c.id])) for c in children]


async def _kept_visits(session: AsyncSession, hh: FromClause, w: Window) -> int:
    """Home visits this quarter to the households in scope, from their kept monthly counts
    (only households visited this quarter can have any)."""
    cm = ContactMonth
    visited = select(hh.c.household_id).where(hh.c.vq == 1)
    n = await session.scalar(
        select(func.coalesce(func.sum(cm.visits), 0)).where(
            cm.household_id.in_(visited), cm.month >= w.visit_since, cm.month <= w.today
        )
    )
    return int(n or 0)


def _unvisited_events(hh: FromClause, today: date) -> Select[Any]:
    """Events of `hh`'s households with no home visit on or after their day: the household's
    kept last visit tells."""
    hs = HouseholdState
    return (
        select(Event.household_id)
        .join(hh, hh.c.household_id == Event.household_id)
        .outerjoin(hs, hs.household_id == Event.household_id)
        .where(
            Event.deleted_at.is_(None),
            Event.occurred_on <= today,
            or_(hs.last_visit_on.is_(None), hs.last_visit_on < Event.occurred_on),
        )
    )


async def _kept_events(session: AsyncSession, hh: FromClause, today: date, st: UnitStats) -> None:
    """Events with no home visit on or after their day, and of them overdue."""
    overdue = func.coalesce(func.sum(case((Event.visit_due_on < today, 1), else_=0)), 0)
    row = (
        await session.execute(_unvisited_events(hh, today).with_only_columns(func.count(), overdue))
    ).one()
    st.events_open, st.events_overdue = int(row[0]), int(row[1])


async def _no_jit(session: AsyncSession) -> None:
    # Short queries on exact row counts: compiling them (JIT) costs more than it saves.
    if is_postgres(session):
        await session.execute(text("SET LOCAL jit = off"))


async def _unit_stats_kept(
    session: AsyncSession, unit: Unit, w: Window, cap: int
) -> UnitStats | None:
    """The figures from the kept state; None when a contact after `w.today` is in scope."""
    await _no_jit(session)
    async with (
        materialized(session, KEPT_SCOPE_COLUMNS, _kept_scope(unit.path, w)) as sc,
        materialized(
            session, KEPT_HOUSEHOLD_COLUMNS, _kept_household_marks(sc, w), key="household_id"
        ) as hh,
    ):
        return await _kept_figures(session, unit, w, cap, sc, hh)


def _visits_by_household(hh: FromClause, w: Window) -> Select:  # type: ignore[type-arg]
    """(household_id, nv): each household of `hh` visited this quarter and its visits."""
    cm = ContactMonth
    return (
        select(cm.household_id, func.coalesce(func.sum(cm.visits), 0))
        .where(
            cm.household_id.in_(select(hh.c.household_id).where(hh.c.vq == 1)),
            cm.month >= w.visit_since,
            cm.month <= w.today,
        )
        .group_by(cm.household_id)
    )


def _events_by_household(hh: FromClause, today: date) -> Select[Any]:
    """(household_id, eo, ed): each household of `hh` with open events, how many, how many
    overdue (as _kept_events counts them)."""
    overdue = func.coalesce(func.sum(case((Event.visit_due_on < today, 1), else_=0)), 0)
    return (
        _unvisited_events(hh, today).add_columns(func.count(), overdue).group_by(Event.household_id)
    )


async def _kept_figures(
    session: AsyncSession,
    unit: Unit,
    w: Window,
    cap: int,
    sc: FromClause,
    hh: FromClause,
) -> UnitStats | None:
    """Every figure from a materialized kept scope and its per-household marks; None when a
    household in it has a contact after `w.today`."""
    st = UnitStats(unit_id=unit.id, unit_name=unit.name, unit_path=unit.path)
    if await session.scalar(select(func.max(hh.c.late))):
        return None
    await _totals(session, sc, hh, st)
    st.visits_quarter = await _kept_visits(session, hh, w)
    await _kept_events(session, hh, w.today, st)
    await _activity(session, sc, hh, w, st)
    missing = (
        select(sc.c.cadre_id, func.count().label("missing"))
        .where(sc.c.pm == 0)
        .group_by(sc.c.cadre_id)
        .subquery("missing")
    )
    st.behind_total, st.behind = await behind_named(session, missing, w.today, cap)
    st.on_leave_total, st.on_leave = await on_leave_in_scope(session, sc, w.today, cap)
    st.unreachable_total, st.unreachable = await unreachable_in_scope(session, sc, cap)
    st.sub_units = await _kept_sub_units(session, unit, sc, hh)
    return st


async def units_stats(
    session: AsyncSession, units: Sequence[Unit], w: Window, *, cap: int
) -> dict[int, UnitStats]:
    """unit_stats of each of `units` (by id), the same figures each would get alone.

    Units under one root (the first part of their path) share the root's kept scope and
    per-household marks, built once: a unit's scope is the root's pairings whose village or
    cadre is in its subtree, and a household's marks do not depend on the scope. When the
    kept state cannot answer for the root (a contact after `w.today`), each unit is computed
    alone, as unit_stats does.
    """
    out: dict[int, UnitStats] = {}
    by_root: dict[str, list[Unit]] = {}
    for u in units:
        by_root.setdefault(u.path.split("/")[0], []).append(u)
    for root_path, members in by_root.items():
        root = await unit_by_path(session, root_path) if len(members) > 1 else None
        if root is not None and w.contact_since.day == 1 and w.visit_since.day == 1:
            out.update(await _shared_kept(session, root, members, w, cap))
        for u in members:
            if u.id not in out:
                out[u.id] = await unit_stats(session, u, w, cap=cap)
    return out


# A member's households with everything the weekly job sums for them: the kept marks, then
# the quarter's visits, open and overdue events, problems raised, resolved and open.
MEMBER_HOUSEHOLD_COLUMNS = [*KEPT_HOUSEHOLD_COLUMNS, "nv", "eo", "ed", "pr", "pv", "po"]
# A member's cadres: live pairings in its scope, and of them not contacted this month.
MEMBER_CADRE_COLUMNS = ["cadre_id", "pairs", "missing"]


def _problems_by_household(hh: FromClause, w: Window) -> Select[Any]:
    """(household_id, pr, pv, po): each household of `hh` with problems, how many raised in
    the period, resolved in it, open now (as _activity counts them)."""
    p = Problem
    return (
        select(p.household_id, *problem_counts(w))
        .join(hh, hh.c.household_id == p.household_id)
        .where(p.deleted_at.is_(None), p.raised_on <= w.today)
        .group_by(p.household_id)
    )


def _diaries_by_cadre(w: Window) -> Select[Any]:
    """(cadre_id, n, op): each cadre's diaries in the period and those with a 民意 view."""
    d = DiaryEntry
    return (
        select(
            d.cadre_id,
            func.count(),
            func.coalesce(func.sum(case((d.opinion != "", 1), else_=0)), 0),
        )
        .where(d.deleted_at.is_(None), d.written_on >= w.period_start, d.written_on <= w.today)
        .group_by(d.cadre_id)
    )


@dataclass(frozen=True)
class _RootTables:
    """The root's kept scope and marks, and its per-household and per-cadre sums."""

    scope: FromClause
    households: FromClause
    visits: FromClause
    events: FromClause
    problems: FromClause
    diaries: FromClause
    units: list[Any]  # _units_below the root


async def _shared_kept(
    session: AsyncSession, root: Unit, members: list[Unit], w: Window, cap: int
) -> dict[int, UnitStats]:
    """The kept figures of `members` (all under `root`) from the root's scope and marks;
    empty when the root's kept state cannot answer. The root itself, when a member, is read
    from its kept counts (root_stats_kept) when they can answer."""
    await _no_jit(session)
    out: dict[int, UnitStats] = {}
    kl = await _root_lines(session, root, w)
    if kl is not None:
        # The root and its sub-units (a county's townships and departments: its weekly
        # job's groups) from the kept counts; other units from the root's scope below.
        if any(u.id == root.id for u in members):
            out[root.id] = await _root_from_lines(session, root, w, cap, kl)
        branches = [u for u in members if u.parent_id == root.id]
        if branches:
            out.update(await _branches_kept(session, root, branches, w, cap, kl))
        if all(u.id in out for u in members):
            return out
    # Each member's pairings are found in the root's scope through its villages and cadres'
    # units, by index, instead of reading all of it once per member.
    rscope = _kept_scope(root.path, w)
    async with (
        materialized(
            session, KEPT_SCOPE_COLUMNS, rscope, indexes=("village_id", "cadre_unit_id")
        ) as rsc,
        materialized(
            session, KEPT_HOUSEHOLD_COLUMNS, _kept_household_marks(rsc, w), key="household_id"
        ) as rhh,
    ):
        if await session.scalar(select(func.max(rhh.c.late))):
            return {}
        async with (
            materialized(
                session, ["household_id", "nv"], _visits_by_household(rhh, w), key="household_id"
            ) as rv,
            materialized(
                session,
                ["household_id", "eo", "ed"],
                _events_by_household(rhh, w.today),
                key="household_id",
            ) as rev,
            materialized(
                session,
                ["household_id", "pr", "pv", "po"],
                _problems_by_household(rhh, w),
                key="household_id",
            ) as rpr,
            materialized(
                session, ["cadre_id", "n", "op"], _diaries_by_cadre(w), key="cadre_id"
            ) as rdi,
        ):
            tables = _RootTables(
                rsc, rhh, rv, rev, rpr, rdi, await _units_below(session, root.path)
            )
            for u in members:
                if u.id not in out:
                    out[u.id] = await _member_kept(session, root, u, w, cap, tables)
    return out


async def _member_kept(
    session: AsyncSession, root: Unit, u: Unit, w: Window, cap: int, rt: _RootTables
) -> UnitStats:
    """One member's kept figures, its scope, households and cadres taken from the root's."""
    rsc = rt.scope
    if u.id == root.id:
        part: Select[Any] = select(*(rsc.c[k] for k in KEPT_SCOPE_COLUMNS))
    else:
        # The subtree's unit ids as values, so both indexes of the root's scope serve.
        sub = [x.id for x in rt.units if x.path == u.path or x.path.startswith(u.path + "/")]
        part = select(*(rsc.c[k] for k in KEPT_SCOPE_COLUMNS)).where(
            or_(rsc.c.village_id.in_(sub), rsc.c.cadre_unit_id.in_(sub))
        )
    async with materialized(session, KEPT_SCOPE_COLUMNS, part, name="digest_member_scope") as sc:
        # Its households looked up by key in the root's tables, its cadres grouped from its
        # scope; both only summed and joined by key, so they need no statistics (ANALYZE).
        mine = select(sc.c.household_id).distinct().subquery("mine")
        rhh, rv, rev, rpr = rt.households, rt.visits, rt.events, rt.problems
        marks = (
            select(
                *(rhh.c[k] for k in KEPT_HOUSEHOLD_COLUMNS),
                func.coalesce(rv.c.nv, 0),
                func.coalesce(rev.c.eo, 0),
                func.coalesce(rev.c.ed, 0),
                func.coalesce(rpr.c.pr, 0),
                func.coalesce(rpr.c.pv, 0),
                func.coalesce(rpr.c.po, 0),
            )
            .select_from(mine)
            .join(rhh, rhh.c.household_id == mine.c.household_id)
            .outerjoin(rv, rv.c.household_id == mine.c.household_id)
            .outerjoin(rev, rev.c.household_id == mine.c.household_id)
            .outerjoin(rpr, rpr.c.household_id == mine.c.household_id)
        )
        cadres = select(
            sc.c.cadre_id, func.count(), func.sum(case((sc.c.pm == 0, 1), else_=0))
        ).group_by(sc.c.cadre_id)
        async with (
            materialized(
                session,
                MEMBER_HOUSEHOLD_COLUMNS,
                marks,
                key="household_id",
                analyze=False,
                name="digest_member_households",
            ) as hh,
            materialized(
                session,
                MEMBER_CADRE_COLUMNS,
                cadres,
                key="cadre_id",
                analyze=False,
                name="digest_member_cadres",
            ) as mc,
        ):
            return await _member_figures(session, u, w, cap, sc, hh, mc, rt)


async def _member_figures(
    session: AsyncSession,
    unit: Unit,
    w: Window,
    cap: int,
    sc: FromClause,
    hh: FromClause,
    mc: FromClause,
    rt: _RootTables,
) -> UnitStats:
    """The figures of a member of the weekly job from its households' sums (one statement),
    its cadres' and the sub-unit lines."""
    st = UnitStats(unit_id=unit.id, unit_name=unit.name, unit_path=unit.path)

    def total(c: Any) -> Any:
        return func.coalesce(func.sum(c), 0)

    row = (
        await session.execute(
            select(
                *_coverage_cols(hh),
                *(total(hh.c[k]).label(k) for k in ("nv", "eo", "ed", "pr", "pv", "po")),
            )
        )
    ).one()
    st.coverage, st.visits_quarter = _coverage(row), int(row.nv)
    st.events_open, st.events_overdue = int(row.eo), int(row.ed)
    st.problems_raised, st.problems_resolved, st.problems_open = (
        int(row.pr),
        int(row.pv),
        int(row.po),
    )
    diaries = rt.diaries
    cad = (
        await session.execute(
            select(total(mc.c.pairs), total(diaries.c.n), total(diaries.c.op)).select_from(
                mc.outerjoin(diaries, diaries.c.cadre_id == mc.c.cadre_id)
            )
        )
    ).one()
    st.pairings, st.diaries_period, st.opinions_period = (int(x) for x in cad)
    missing = select(mc.c.cadre_id, mc.c.missing).where(mc.c.missing > 0).subquery("missing")
    st.behind_total, st.behind = await behind_named(session, missing, w.today, cap)
    in_scope = Cadre.id.in_(select(mc.c.cadre_id))
    st.on_leave_total, st.on_leave = await on_leave_where(session, in_scope, w.today, cap)
    st.unreachable_total, st.unreachable = await unreachable_where(session, in_scope, cap)
    st.sub_units = await _kept_sub_units(session, unit, sc, hh, rt.units)
    return st


async def unit_stats_counted(
    session: AsyncSession, unit: Unit, w: Window, *, cap: int
) -> UnitStats:
    """Every digest figure counted from the contacts themselves (any day, any window)."""
    st = UnitStats(unit_id=unit.id, unit_name=unit.name, unit_path=unit.path)
    async with (
        materialized(session, SCOPE_COLUMNS, scope_select(unit.path, w.today)) as sc,
        materialized(session, HOUSEHOLD_COLUMNS, _household_marks(sc, w)) as hh,
    ):
        await _totals(session, sc, hh, st)
        await _activity(session, sc, hh, w, st)
        await _events(session, hh, w.today, st)  # hh: one row per household
        st.behind_total, st.behind = await behind_in_scope(session, sc, w, cap)
        st.on_leave_total, st.on_leave = await on_leave_in_scope(session, sc, w.today, cap)
        st.unreachable_total, st.unreachable = await unreachable_in_scope(session, sc, cap)
        st.sub_units = await _sub_units(session, unit, sc, hh)
    return st


async def _dated_pairings(session: AsyncSession, today: date) -> bool:
    """Whether a pairing marked active has dates that do not cover `today` (not begun, or
    ended): the kept counts take every active pairing as live, so they cannot answer then.
    Two look-ups in partial indexes."""
    for cond in ("start_date > :t", "end_date < :t"):
        found = await session.scalar(
            text(f"SELECT 1 FROM pairings WHERE active AND {cond} LIMIT 1"), {"t": today}
        )
        if found:
            return True
    return False


@dataclass(frozen=True)
class _RootLines:
    """A root's sums from `unit_days` and each of its sub-units' (keys 'p', 'h', 'wk',
    'mo', 'vq', 'n'), and each unit's own rows (unit_id, src) → sums."""

    totals: dict[str, int]
    per_child: dict[int, dict[str, int]]
    lines: dict[tuple[int, int], dict[str, int]]


async def _root_lines(session: AsyncSession, root: Unit, w: Window) -> _RootLines | None:
    """The root's kept sums; None when they cannot answer (a contact in scope after
    `w.today`, a pairing not live on it, or another root in the database)."""
    roots = await session.scalar(select(func.count()).where(Unit.parent_id.is_(None)))
    if roots != 1 or await _dated_pairings(session, w.today):
        return None
    await _no_jit(session)
    below = select(UnitBranch.unit_id).where(UnitBranch.branch_id == root.id)
    child_of = {
        int(r.unit_id): int(r.branch_id)
        for r in await session.execute(
            select(UnitBranch.unit_id, UnitBranch.branch_id).where(
                UnitBranch.unit_id.in_(below), UnitBranch.branch_id != root.id
            )
        )
    }
    sums = await _unit_day_sums(session, root.id, w)
    if sums is None:
        return None
    totals, lines = sums
    per_child: dict[int, dict[str, int]] = {}
    for unit_id, src, got in lines:
        child = unit_id if src == 1 else child_of.get(unit_id)
        if child is not None and (src == 0 or child != root.id):
            acc = per_child.setdefault(child, {})
            for k, v in got.items():
                acc[k] = acc.get(k, 0) + v
    return _RootLines(totals, per_child, {(u, src): got for u, src, got in lines})


def _line_coverage(sums: dict[str, int]) -> Coverage:
    return Coverage(*(sums.get(k, 0) for k in ("h", "wk", "mo", "vq")))


async def root_stats_kept(
    session: AsyncSession, root: Unit, w: Window, cap: int
) -> UnitStats | None:
    """A root's figures from the kept counts (`unit_days`: a few thousand rows) with no
    pass over its pairings but the one that names the cadres behind; None when they cannot
    answer (a contact in scope after `w.today`, a pairing not live on it, or another root
    in the database: its scope's cadre lists are then read from the pairings)."""
    kl = await _root_lines(session, root, w)
    if kl is None:
        return None
    return await _root_from_lines(session, root, w, cap, kl)


async def _root_from_lines(
    session: AsyncSession, root: Unit, w: Window, cap: int, kl: _RootLines
) -> UnitStats:
    children = list(
        await session.execute(
            select(Unit.id, Unit.name).where(Unit.parent_id == root.id).order_by(Unit.path)
        )
    )
    st = UnitStats(unit_id=root.id, unit_name=root.name, unit_path=root.path)
    st.pairings, st.visits_quarter = kl.totals["p"], kl.totals["n"]
    st.coverage = _line_coverage(kl.totals)
    st.sub_units = [
        SubUnitLine(c.id, c.name, _line_coverage(kl.per_child.get(c.id, {}))) for c in children
    ]
    await _root_people(session, root, w, cap, st)
    return st


async def branch_stats_kept(
    session: AsyncSession, unit: Unit, w: Window, cap: int
) -> UnitStats | None:
    """A sub-unit of the only root (a county's township or department: most groups' unit)
    from the kept counts, reading its own units' rows only: its `unit_days` rows (by the
    table's key, unit by unit), its pairings (by its villages and its cadres' units), its
    households' events and problems. None when they cannot answer (its parent is not the
    only root, a pairing not live on `w.today`, or a contact in its scope after it)."""
    if unit.parent_id is None:
        return None
    root = await session.get(Unit, unit.parent_id)
    if root is None or root.parent_id is not None:
        return None
    roots = await session.scalar(select(func.count()).where(Unit.parent_id.is_(None)))
    if roots != 1 or await _dated_pairings(session, w.today):
        return None
    await _no_jit(session)
    units = await _units_below(session, unit.path)
    sums = await _unit_day_sums(session, unit.id, w, [u.id for u in units])
    if sums is None:
        return None
    totals, lines = sums
    kl = _RootLines(totals, {unit.id: totals}, {(u, src): got for u, src, got in lines})
    got = await _branches_kept(session, root, [unit], w, cap, kl, units)
    return got[unit.id]


async def _branches_kept(
    session: AsyncSession,
    root: Unit,
    branches: list[Unit],
    w: Window,
    cap: int,
    kl: _RootLines,
    within: list[Any] | None = None,
) -> dict[int, UnitStats]:
    """The figures of `branches` (sub-units of the only root) from the kept counts and a
    few grouped reads for all of them (storage/stats_branches.py). `within`: the units of
    the one branch's subtree (_units_below), when only its pairings are to be read."""
    ids = [b.id for b in branches]
    units = within if within is not None else await _units_below(session, root.path)
    mine = [u.id for u in within] if within is not None else None
    cadres = branch_cadres(root.id, ids, w) if mine is None else cadres_within(ids[0], mine, w)
    async with materialized(session, BRANCH_CADRE_COLUMNS, cadres, indexes=("branch_id",)) as bc:
        behind, leave, unreachable = await branch_people(session, bc, w.today, cap)
        diaries = await branch_diaries(session, bc, w)
    if mine is None:
        events = await branch_events(session, ids, w.today)
        problems = await branch_problems(session, ids, w)
    else:  # one branch: its households first, its events and problems by them
        events = await events_within(session, ids[0], mine, w.today)
        problems = await problems_within(session, ids[0], mine, w)
    elsewhere = await _deep_elsewhere(session, units, w)
    out: dict[int, UnitStats] = {}
    for b in branches:
        sums = kl.per_child.get(b.id, {})
        st = UnitStats(unit_id=b.id, unit_name=b.name, unit_path=b.path)
        st.pairings, st.visits_quarter = sums.get("p", 0), sums.get("n", 0)
        st.coverage = _line_coverage(sums)
        st.diaries_period, st.opinions_period = diaries.get(b.id, (0, 0))
        st.events_open, st.events_overdue = events.get(b.id, (0, 0))
        st.problems_raised, st.problems_resolved, st.problems_open = problems.get(b.id, (0, 0, 0))
        st.behind_total, st.behind = behind.get(b.id, (0, []))
        st.on_leave_total, st.on_leave = leave.get(b.id, (0, []))
        st.unreachable_total, st.unreachable = unreachable.get(b.id, (0, []))
        st.sub_units = _branch_sub_units(b, units, kl, elsewhere)
        out[b.id] = st
    return out


def _in(u: Any, path: str) -> bool:
    return bool(u.path == path or u.path.startswith(path + "/"))


async def _deep_elsewhere(
    session: AsyncSession, units: list[Any], w: Window
) -> dict[int, dict[int, tuple[int, int, int]]]:
    """For each unit two levels below the root: the households living outside it paired
    with its (or its sub-units') cadres, with their marks (wk, mo, vq)."""
    second = {u.path: u for u in units if u.path.count("/") == 2}
    anc: dict[int, Any] = {}  # unit → its ancestor two levels below the root
    for u in units:
        top = "/".join(u.path.split("/")[:3])
        if top in second:
            anc[u.id] = second[top]
    by_id = {u.id: u for u in units}
    out: dict[int, dict[int, tuple[int, int, int]]] = {}
    for r in await deep_cadre_households(session, list(anc)):
        c2 = anc[int(r.unit_id)]
        village = by_id.get(int(r.village_id))
        if village is not None and _in(village, c2.path):
            continue
        last, visit = r.last_contact_on, r.last_visit_on
        out.setdefault(c2.id, {})[int(r.household_id)] = (
            int(last is not None and last >= w.period_start),
            int(last is not None and last >= w.contact_since),
            int(visit is not None and visit >= w.visit_since),
        )
    return out


def _branch_sub_units(
    branch: Unit,
    units: list[Any],
    kl: _RootLines,
    elsewhere: dict[int, dict[int, tuple[int, int, int]]],
) -> list[SubUnitLine]:
    """A branch's sub-unit lines: each child's households living in it (its units' own
    `unit_days` rows) and those elsewhere paired with its cadres."""
    children = sorted((u for u in units if u.parent_id == branch.id), key=lambda u: u.path)
    lines = []
    for c in children:
        acc = {"h": 0, "wk": 0, "mo": 0, "vq": 0}
        for u in units:
            if _in(u, c.path):
                for k, v in kl.lines.get((u.id, 0), {}).items():
                    if k in acc:
                        acc[k] += v
        for wk, mo, vq in elsewhere.get(c.id, {}).values():
            acc["h"] += 1
            acc["wk"] += wk
            acc["mo"] += mo
            acc["vq"] += vq
        lines.append(SubUnitLine(c.id, c.name, _line_coverage(acc)))
    return lines


async def _unit_day_sums(
    session: AsyncSession, root_id: int, w: Window, unit_ids: list[int] | None = None
) -> tuple[dict[str, int], list[tuple[int, int, dict[str, int]]]] | None:
    """The root's sums and each unit's, from `unit_days`; None when a household in scope
    has a contact after `w.today`. `unit_ids`: a root's sub-unit `root_id` and the units
    of its subtree: its sums are then its villages' rows and its own `src` 1 rows (the
    households elsewhere paired with its cadres), read unit by unit by the table's key."""
    ud = UnitDay
    since = min(w.period_start, w.contact_since, w.visit_since)

    def part(lo: date) -> Any:
        return func.sum(case((and_(ud.day >= lo, ud.day <= w.today), ud.n), else_=0))

    rows = await session.execute(
        select(
            ud.unit_id,
            ud.src,
            ud.kind,
            func.sum(ud.n).label("total"),
            part(w.period_start).label("wk"),
            part(w.contact_since).label("mo"),
            part(w.visit_since).label("q"),
            func.sum(case((ud.day > w.today, ud.n), else_=0)).label("late"),
        )
        # A root: every unit is below the only root (and src 1 rows are the root's and its
        # sub-units' only): the whole table is read in one pass, not unit by unit
        # (PostgreSQL's look-ups by unit visited 94,000 heap blocks of a 677-block table).
        # A root's sub-unit reads its own units' rows, by key.
        .where(
            or_(ud.kind.in_(("p", "h")), ud.day >= since),
            *([ud.unit_id.in_(unit_ids)] if unit_ids is not None else []),
        )
        .group_by(ud.unit_id, ud.src, ud.kind)
    )
    totals = {k: 0 for k in ("p", "h", "n", "wk", "mo", "vq")}
    lines: dict[tuple[int, int], dict[str, int]] = {}
    late = 0
    for r in rows:
        unit_id, src, kind = int(r.unit_id), int(r.src), r.kind
        got: dict[str, int] = {}
        if kind in ("p", "h"):
            got[kind] = int(r.total or 0)
        elif kind == "c":
            got = {"wk": int(r.wk or 0), "mo": int(r.mo or 0)}
        elif kind == "v":
            got = {"vq": int(r.q or 0)}
        elif kind == "n":
            got = {"n": int(r.q or 0)}
        if src == 0 or unit_id == root_id:
            late += int(r.late or 0) if kind == "c" else 0
            for k, v in got.items():
                totals[k] += v
        acc = lines.setdefault((unit_id, src), {})
        for k, v in got.items():
            acc[k] = acc.get(k, 0) + v
    if late:
        return None
    return totals, [(u, src, got) for (u, src), got in lines.items()]


async def _root_people(
    session: AsyncSession, root: Unit, w: Window, cap: int, st: UnitStats
) -> None:
    """Events, problems, diaries and the lists that name cadres for the only root: its
    scope is every household of `household_scope` and every cadre of `cadre_scope` (the
    active cadres with a live pairing)."""
    hs, cs = HouseholdScope, CadreScope
    overdue = func.coalesce(func.sum(case((Event.visit_due_on < w.today, 1), else_=0)), 0)
    row = (
        await session.execute(
            # Each event's household's last visit, kept in its household_scope row (the
            # same dates as household_state's): one look-up by key per event.
            select(func.count(), overdue)
            .select_from(Event)
            .join(hs, hs.household_id == Event.household_id)
            .where(
                Event.deleted_at.is_(None),
                Event.occurred_on <= w.today,
                or_(hs.last_visit_on.is_(None), hs.last_visit_on < Event.occurred_on),
            )
        )
    ).one()
    st.events_open, st.events_overdue = int(row[0]), int(row[1])

    def live(cadre_id: Any) -> Any:  # the cadre holds a live pairing
        return select(cs.cadre_id).where(cs.cadre_id == cadre_id).exists()

    def household_in_scope(household_id: Any) -> Any:
        return select(hs.household_id).where(hs.household_id == household_id).exists()

    await _root_activity(session, household_in_scope, live, w, st)
    if w.contact_since == w.today.replace(day=1):  # the contact block: the calendar month
        got = await behind_kept(session, w.contact_since, w.today, cap)
    else:
        got = await behind_named(session, _root_missing(w), w.today, cap)
    st.behind_total, st.behind = got
    in_scope = live(Cadre.id)
    st.on_leave_total, st.on_leave = await on_leave_where(session, in_scope, w.today, cap)
    st.unreachable_total, st.unreachable = await unreachable_kept(session, cap)


def _root_missing(w: Window) -> FromClause:
    """(cadre_id, missing): the root's cadres with live pairs not contacted in a contact
    block longer than a month, by grouping `cadre_months`."""
    cm = CadreMonth
    return (
        select(cm.cadre_id, func.sum(cm.pairs).label("missing"))
        .where(cm.month < w.contact_since)  # last contacted before the block, or never
        .group_by(cm.cadre_id)
        .having(func.sum(cm.pairs) > 0)
        .subquery("missing")
    )


async def _root_activity(
    session: AsyncSession, in_scope: Any, cadre_live: Any, w: Window, st: UnitStats
) -> None:
    """As _activity, each diary and problem tested against the root's scope by key; the
    three problem counts read ranges of indexes (raised in the period, resolved in it,
    open now) instead of every problem."""
    d = DiaryEntry
    diary = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((d.opinion != "", 1), else_=0)), 0),
            ).where(
                d.deleted_at.is_(None),
                d.written_on >= w.period_start,
                d.written_on <= w.today,
                cadre_live(d.cadre_id),
            )
        )
    ).one()
    st.diaries_period, st.opinions_period = int(diary[0]), int(diary[1])
    p = Problem
    if is_postgres(session):
        # One pass over the problems of the three ranges (a bitmap OR of their indexes),
        # each tested once: PostgreSQL hashed all of household_scope for each of three
        # counts (its planner prefers that to looking up some thousand keys).
        stmt = select(*problem_counts(w)).where(
            p.deleted_at.is_(None),
            p.raised_on <= w.today,
            or_(p.raised_on >= w.period_start, resolved_in(w), p.status == "open"),
            in_scope(p.household_id),
        )
    else:  # SQLite: each count an index range, the open problems' from the index alone
        stmt = problem_count_ranges(
            w, p.deleted_at.is_(None), p.raised_on <= w.today, in_scope(p.household_id)
        )
    probs = (await session.execute(stmt)).one()
    st.problems_raised, st.problems_resolved, st.problems_open = (int(x) for x in probs)


async def outbox_keys_existing(session: AsyncSession, dedupe_keys: Sequence[str]) -> set[str]:
    """Those of `dedupe_keys` with a message ever enqueued, in one statement."""
    rows = await session.scalars(
        select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(dedupe_keys)))
    )
    return set(rows)
