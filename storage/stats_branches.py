"""The weekly job's figures for a root's sub-units (its "branches": the townships and
departments one level down) from the kept scope counts, all branches in a few grouped reads.

A branch's coverage, pairings and visits are its line in the root's `unit_days` sums (read
once for the root, storage.stats); what is read here, for every branch at once:

- `branch_cadres`: each branch's cadres with a live pairing in its scope — a pairing is in
  a branch's scope when its household's village or its cadre's unit is in the branch
  (`unit_branches`) — with how many such pairings and how many of them the cadre has not
  contacted this month (its `contact_state`): one pass over the live pairings, where the
  per-group reading built a scope table per group;
- the cadres behind, on leave and unreachable, ranked within each branch (window
  functions), and each branch's diaries, from that table;
- each branch's open events and problems: its households are those living in it
  (`household_scope` by village) and those elsewhere paired with its cadres
  (`household_branches`), each read from the events' and problems' side;
- the households elsewhere paired with cadres of a unit two levels down (a village's or a
  department's office), for the branches' own sub-unit lines.

The same figures as each unit's own digest; `tests/test_digest_kept.py` compares them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    FromClause,
    Select,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.dialect import is_postgres
from storage.models import (
    Cadre,
    CadreMonth,
    CadreScope,
    ChatAccount,
    ContactState,
    DiaryEntry,
    Event,
    HouseholdBranch,
    HouseholdScope,
    HouseholdState,
    Pairing,
    Problem,
    Unit,
    UnitBranch,
)
from storage.stats_people import NamedCount
from storage.stats_scope import Window, problem_count_ranges, problem_counts

BRANCH_CADRE_COLUMNS = ["branch_id", "cadre_id", "missing"]


def branch_cadres(root_id: int, branch_ids: Sequence[int], w: Window) -> Select[Any]:
    """(branch_id, cadre_id, missing): the cadres the branches' lists can name, each with
    the pairings in the branch's scope it has not contacted this month.

    Only those cadres are read: any with a pair not contacted this month (`cadre_months`),
    on leave, with no chat account the bot can reach, or with a diary in the period; each
    with every live pairing (active, of an active cadre, with a household in
    `household_scope`: not exited; the caller has made sure every active pairing's dates
    cover `w.today`). A pairing whose village and cadre lie in one branch counts once."""
    p, c, hs, cs, cm = Pairing, Cadre, HouseholdScope, ContactState, CadreMonth
    reachable = exists().where(ChatAccount.cadre_id == Cadre.id, ChatAccount.blocked_at.is_(None))
    d = DiaryEntry
    named = union(
        select(cm.cadre_id).where(cm.month < w.contact_since, cm.pairs > 0),
        select(Cadre.id).where(Cadre.leave_until >= w.today),
        select(Cadre.id).where(~reachable),
        select(d.cadre_id).where(
            d.deleted_at.is_(None), d.written_on >= w.period_start, d.written_on <= w.today
        ),
    ).subquery("named")
    by_village, by_cadre = aliased(UnitBranch), aliased(UnitBranch)
    live = (
        select(
            p.cadre_id,
            by_village.branch_id.label("tv"),
            by_cadre.branch_id.label("tc"),
            case((cs.last_contact_on >= w.contact_since, 0), else_=1).label("miss"),
        )
        .select_from(named)
        .join(p, p.cadre_id == named.c.cadre_id)
        .join(c, c.id == p.cadre_id)
        .join(hs, hs.household_id == p.household_id)
        .outerjoin(
            by_village, and_(by_village.unit_id == hs.village_id, by_village.branch_id != root_id)
        )
        .outerjoin(by_cadre, and_(by_cadre.unit_id == c.unit_id, by_cadre.branch_id != root_id))
        .outerjoin(cs, and_(cs.cadre_id == p.cadre_id, cs.household_id == p.household_id))
        .where(p.active.is_(True), c.active.is_(True))
        .cte("live")  # read twice below, so computed once: one pass over the pairings
    )
    rows = union_all(
        select(live.c.tv.label("b"), live.c.cadre_id, live.c.miss).where(live.c.tv.is_not(None)),
        select(live.c.tc, live.c.cadre_id, live.c.miss).where(
            live.c.tc.is_not(None), or_(live.c.tv.is_(None), live.c.tv != live.c.tc)
        ),
    ).subquery("rows")
    return (
        select(rows.c.b, rows.c.cadre_id, func.sum(rows.c.miss))
        .where(rows.c.b.in_(list(branch_ids)))
        .group_by(rows.c.b, rows.c.cadre_id)
    )


def cadres_within(branch_id: int, within: Sequence[int], w: Window) -> Select[Any]:
    """(branch_id, cadre_id, missing) as branch_cadres for one branch (`within`: its
    subtree's unit ids), every cadre with a live pairing in its scope: the pairings of the
    households living in it (`household_scope` by village, then pairings by household) and
    those of its cadres with households living elsewhere (cadres by unit, then pairings by
    cadre), each found by index, instead of every named cadre's pairings in the county.
    Cadres no list names add nothing to the lists."""
    p, c, hs, cs = Pairing, Cadre, HouseholdScope, ContactState
    ids = list(within)
    miss = case((cs.last_contact_on >= w.contact_since, 0), else_=1).label("miss")
    state = and_(cs.cadre_id == p.cadre_id, cs.household_id == p.household_id)
    live = and_(p.active.is_(True), c.active.is_(True))
    by_village = (
        select(p.cadre_id, miss)
        .select_from(hs)
        .join(p, p.household_id == hs.household_id)
        .join(c, c.id == p.cadre_id)
        .outerjoin(cs, state)
        .where(hs.village_id.in_(ids), live)
    )
    by_cadre = (
        select(p.cadre_id, miss)
        .select_from(c)
        .join(p, p.cadre_id == c.id)
        .join(hs, hs.household_id == p.household_id)
        .outerjoin(cs, state)
        .where(c.unit_id.in_(ids), hs.village_id.not_in(ids), live)
    )
    rows = union_all(by_village, by_cadre).subquery("rows")
    return select(
        literal(branch_id, BigInteger).label("branch_id"), rows.c.cadre_id, func.sum(rows.c.miss)
    ).group_by(rows.c.cadre_id)


async def _ranked(
    session: AsyncSession, bc: FromClause, extra: list[Any], cond: Any, order: list[Any], cap: int
) -> dict[int, tuple[int, list[Any]]]:
    """Per branch: how many of its cadres meet `cond`, and the first `cap` rows in `order`
    (id, name, unit, *extra)."""
    part = bc.c.branch_id
    ranked = (
        select(
            part.label("b"),
            Cadre.id,
            Cadre.name,
            Unit.name.label("unit"),
            *extra,
            func.row_number().over(partition_by=part, order_by=order).label("rn"),
            func.count().over(partition_by=part).label("total"),
        )
        .select_from(bc)
        .join(Cadre, Cadre.id == bc.c.cadre_id)
        .join(Unit, Unit.id == Cadre.unit_id)
        .where(cond)
        .subquery("ranked")
    )
    return await _first_of_each(session, ranked, cap)


async def _first_of_each(
    session: AsyncSession, ranked: Subquery, cap: int
) -> dict[int, tuple[int, list[Any]]]:
    """`ranked`'s rows (branch b, rank rn, total) by branch: its total and its first `cap`."""
    out: dict[int, tuple[int, list[Any]]] = {}
    for r in await session.execute(
        select(ranked).where(ranked.c.rn <= cap).order_by(ranked.c.b, ranked.c.rn)
    ):
        out.setdefault(int(r.b), (int(r.total), []))[1].append(r)
    return out


async def _behind_ranked(
    session: AsyncSession, bc: FromClause, today: date, cap: int
) -> dict[int, tuple[int, list[Any]]]:
    """_ranked for the cadres behind (not on leave; most pairs missed first, then by
    name): per branch, how many there are and the `cap`-th largest count, found from the
    counts alone; then only the cadres with at least that count are named and ordered by
    name — a county's townships have some hundred thousand such rows, and joining each to
    its cadre and unit to order them by name cost more than counting them."""
    part = bc.c.branch_id
    on_leave = select(Cadre.id).where(Cadre.leave_until >= today)
    behind = and_(bc.c.missing > 0, bc.c.cadre_id.not_in(on_leave))
    ordered = (
        select(
            part.label("b"),
            bc.c.missing,
            func.row_number().over(partition_by=part, order_by=bc.c.missing.desc()).label("rn"),
            func.count().over(partition_by=part).label("total"),
        )
        .where(behind)
        .subquery("ordered")
    )
    floors = (
        select(
            ordered.c.b,
            func.min(ordered.c.missing).label("floor"),
            func.max(ordered.c.total).label("total"),
        )
        .where(ordered.c.rn <= cap)
        .group_by(ordered.c.b)
        .subquery("floors")
    )
    ranked = (
        select(
            part.label("b"),
            Cadre.id,
            Cadre.name,
            Unit.name.label("unit"),
            bc.c.missing,
            func.row_number()
            .over(partition_by=part, order_by=[bc.c.missing.desc(), Cadre.name, Cadre.id])
            .label("rn"),
            floors.c.total,
        )
        .select_from(bc)
        .join(floors, and_(floors.c.b == part, bc.c.missing >= floors.c.floor))
        .join(Cadre, Cadre.id == bc.c.cadre_id)
        .join(Unit, Unit.id == Cadre.unit_id)
        .where(behind)
        .subquery("ranked")
    )
    return await _first_of_each(session, ranked, cap)


async def branch_people(
    session: AsyncSession, bc: FromClause, today: date, cap: int
) -> tuple[
    dict[int, tuple[int, list[NamedCount]]],
    dict[int, tuple[int, list[NamedCount]]],
    dict[int, tuple[int, list[NamedCount]]],
]:
    """Per branch: the cadres behind (not on leave; most pairs missed first), on leave
    (longest leave first) and unreachable (no chat account the bot can reach), as
    stats_people's lists: (total, the first `cap`)."""
    behind = await _behind_ranked(session, bc, today, cap)
    leave = await _ranked(
        session,
        bc,
        [Cadre.leave_until],
        Cadre.leave_until >= today,
        [Cadre.leave_until.desc(), Cadre.name, Cadre.id],
        cap,
    )
    # No chat account the bot can reach: kept in each cadre's `cadre_scope` row (every
    # cadre here has one: active, with a live pairing), found through its index on `reach`.
    kept = CadreScope
    unreachable_ids = select(kept.cadre_id).where(kept.reach == 0)
    unreachable = await _ranked(
        session, bc, [], bc.c.cadre_id.in_(unreachable_ids), [Cadre.name, Cadre.id], cap
    )
    return (
        {
            b: (n, [NamedCount(r.id, r.name, int(r.missing), unit=r.unit) for r in rows])
            for b, (n, rows) in behind.items()
        },
        {
            b: (n, [NamedCount(r.id, r.name, until=r.leave_until, unit=r.unit) for r in rows])
            for b, (n, rows) in leave.items()
        },
        {
            b: (n, [NamedCount(r.id, r.name, unit=r.unit) for r in rows])
            for b, (n, rows) in unreachable.items()
        },
    )


async def branch_diaries(
    session: AsyncSession, bc: FromClause, w: Window
) -> dict[int, tuple[int, int]]:
    """Per branch: diaries in the period by its cadres, and those with a 民意 view."""
    d = DiaryEntry
    per_cadre = (
        select(
            d.cadre_id,
            func.count().label("n"),
            func.sum(case((d.opinion != "", 1), else_=0)).label("op"),
        )
        .where(d.deleted_at.is_(None), d.written_on >= w.period_start, d.written_on <= w.today)
        .group_by(d.cadre_id)
        .subquery("per_cadre")
    )
    rows = await session.execute(
        select(bc.c.branch_id, func.sum(per_cadre.c.n), func.sum(per_cadre.c.op))
        .join(per_cadre, per_cadre.c.cadre_id == bc.c.cadre_id)
        .group_by(bc.c.branch_id)
    )
    return {int(b): (int(n or 0), int(op or 0)) for b, n, op in rows}


def _by_branch(
    household_id: Any, branch_ids: Sequence[int]
) -> list[tuple[Any, list[Any], list[Any]]]:
    """(branch column, joins, conditions): the two ways a household is in a branch's scope,
    each found from the record's household: its village lies in the branch, or it lives
    elsewhere and is paired with the branch's cadres."""
    hs, ub, hb = HouseholdScope, UnitBranch, HouseholdBranch
    ids = list(branch_ids)
    return [
        (
            ub.branch_id,
            [(hs, hs.household_id == household_id), (ub, ub.unit_id == hs.village_id)],
            [ub.branch_id.in_(ids)],
        ),
        (hb.unit_id, [(hb, hb.household_id == household_id)], [hb.unit_id.in_(ids)]),
    ]


async def branch_events(
    session: AsyncSession, branch_ids: Sequence[int], today: date
) -> dict[int, tuple[int, int]]:
    """Per branch: events with no home visit on or after their day, and of them overdue."""
    e, st = Event, HouseholdState
    out: dict[int, tuple[int, int]] = {}
    for branch, joins, conds in _by_branch(e.household_id, branch_ids):
        stmt = select(
            branch, func.count(), func.sum(case((e.visit_due_on < today, 1), else_=0))
        ).select_from(e)
        for table, on in joins:
            stmt = stmt.join(table, on)
        stmt = (
            stmt.outerjoin(st, st.household_id == e.household_id)
            .where(
                *conds,
                e.deleted_at.is_(None),
                e.occurred_on <= today,
                or_(st.last_visit_on.is_(None), st.last_visit_on < e.occurred_on),
            )
            .group_by(branch)
        )
        for b, n, late in await session.execute(stmt):
            o, d = out.get(int(b), (0, 0))
            out[int(b)] = (o + int(n), d + int(late or 0))
    return out


async def branch_problems(
    session: AsyncSession, branch_ids: Sequence[int], w: Window
) -> dict[int, tuple[int, int, int]]:
    """Per branch: problems raised in the period, resolved in it, open now."""
    p = Problem
    out: dict[int, tuple[int, int, int]] = {}
    for branch, joins, conds in _by_branch(p.household_id, branch_ids):
        stmt = select(branch, *problem_counts(w)).select_from(p)
        for table, on in joins:
            stmt = stmt.join(table, on)
        stmt = stmt.where(*conds, p.deleted_at.is_(None), p.raised_on <= w.today).group_by(branch)
        for b, raised, resolved, still in await session.execute(stmt):
            r0, r1, r2 = out.get(int(b), (0, 0, 0))
            out[int(b)] = (r0 + int(raised or 0), r1 + int(resolved or 0), r2 + int(still or 0))
    return out


async def deep_cadre_households(session: AsyncSession, unit_ids: Sequence[int]) -> list[Any]:
    """(cadre_unit_id, household_id, village_id, last_contact_on, last_visit_on) of the live
    pairings of cadres working in `unit_ids` (units two or more levels below the root)."""
    if not unit_ids:
        return []
    p, c, hs = Pairing, Cadre, HouseholdScope
    return list(
        await session.execute(
            select(c.unit_id, hs.household_id, hs.village_id, hs.last_contact_on, hs.last_visit_on)
            .select_from(c)
            .join(p, p.cadre_id == c.id)
            .join(hs, hs.household_id == p.household_id)
            .where(c.unit_id.in_(list(unit_ids)), c.active.is_(True), p.active.is_(True))
        )
    )


def _households_within(branch_id: int, within: Sequence[int]) -> Any:
    """The households in one branch's scope: living in its villages (`household_scope` by
    village) or elsewhere paired with its cadres (`household_branches` by unit)."""
    hs, hb = HouseholdScope, HouseholdBranch
    return union(
        select(hs.household_id).where(hs.village_id.in_(list(within))),
        select(hb.household_id).where(hb.unit_id == branch_id),
    ).subquery("mine")


async def events_within(
    session: AsyncSession, branch_id: int, within: Sequence[int], today: date
) -> dict[int, tuple[int, int]]:
    """As branch_events for one branch (`within`: its subtree's unit ids): its households
    first, then their events read by household, each against the household's last visit.

    On PostgreSQL the last visits are taken from the households' `household_scope` rows
    (the same dates; those living elsewhere looked up by key from `household_branches`):
    joined to `household_state` it hashed all of that table (600,000 rows at a million
    pairings). SQLite reads the households from its village index alone and looks each
    event's household up in `household_state` by key."""
    e, hs, hb, st = Event, HouseholdScope, HouseholdBranch, HouseholdState
    if is_postgres(session):
        mine = union_all(
            select(hs.household_id, hs.last_visit_on).where(hs.village_id.in_(list(within))),
            select(hs.household_id, hs.last_visit_on)
            .join(hb, hb.household_id == hs.household_id)
            .where(hb.unit_id == branch_id),
        ).subquery("mine")
        stmt = select().select_from(mine).join(e, e.household_id == mine.c.household_id)
        last_visit: Any = mine.c.last_visit_on
    else:
        homes = _households_within(branch_id, within)
        stmt = (
            select()
            .select_from(homes)
            .join(e, e.household_id == homes.c.household_id)
            .outerjoin(st, st.household_id == e.household_id)
        )
        last_visit = st.last_visit_on
    n, late = (
        await session.execute(
            stmt.add_columns(
                func.count(), func.sum(case((e.visit_due_on < today, 1), else_=0))
            ).where(
                e.deleted_at.is_(None),
                e.occurred_on <= today,
                or_(last_visit.is_(None), last_visit < e.occurred_on),
            )
        )
    ).one()
    return {branch_id: (int(n), int(late or 0))} if n else {}


async def problems_within(
    session: AsyncSession, branch_id: int, within: Sequence[int], w: Window
) -> dict[int, tuple[int, int, int]]:
    """As branch_problems for one branch, each problem tested against its households: on
    PostgreSQL in one pass over the problems; on SQLite each count an index range (raised
    in the period, resolved in it, open now: the open problems' from the index alone), as
    the root's, instead of reading every problem's row (90,000 at a million pairings)."""
    p = Problem
    mine = _households_within(branch_id, within)
    base = [p.deleted_at.is_(None), p.raised_on <= w.today, p.household_id.in_(select(mine))]
    if is_postgres(session):
        stmt = select(*problem_counts(w)).where(*base)
    else:
        stmt = problem_count_ranges(w, *base)
    raised, resolved, still = (await session.execute(stmt)).one()
    return {branch_id: (int(raised or 0), int(resolved or 0), int(still or 0))}
