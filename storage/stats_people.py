"""Who is behind, away or unreachable in a unit's subtree, and which event visits are late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import FromClause, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Cadre, CadreScope, ChatAccount, Contact, Event, Household, Unit
from storage.stats_scope import DUTY_KINDS, Window, open_events, scope


@dataclass(frozen=True)
class NamedCount:
    """A cadre and a number (households missed), or a date (leave until)."""

    cadre_id: int
    name: str
    count: int = 0
    until: date | None = None
    unit: str = ""  # the cadre's unit, to tell apart cadres of the same name


@dataclass(frozen=True)
class OverdueEvent:
    event_id: int
    household: str
    village: str
    cadre: str
    kind: str
    occurred_on: date
    visit_due_on: date


async def behind_in_scope(
    session: AsyncSession, scope: FromClause, w: Window, cap: int
) -> tuple[int, list[NamedCount]]:
    """Cadres (not on leave) with households they have not contacted this month, worst first."""
    mc = (
        select(Contact.cadre_id, Contact.household_id)
        .where(
            Contact.deleted_at.is_(None),
            Contact.kind.in_(DUTY_KINDS),
            Contact.occurred_on >= w.contact_since,
            Contact.occurred_on <= w.today,
            Contact.cadre_id.in_(select(scope.c.cadre_id)),
        )
        .distinct()
        .subquery("mc")
    )
    missing = (
        select(scope.c.cadre_id, func.count().label("missing"))
        .select_from(
            scope.outerjoin(
                mc,
                and_(mc.c.cadre_id == scope.c.cadre_id, mc.c.household_id == scope.c.household_id),
            )
        )
        .where(mc.c.cadre_id.is_(None))
        .group_by(scope.c.cadre_id)
        .subquery("missing")
    )
    return await behind_named(session, missing, w.today, cap)


async def behind_named(
    session: AsyncSession, missing: FromClause, today: date, cap: int
) -> tuple[int, list[NamedCount]]:
    """`missing` (cadre_id, missing) named, cadres on leave left out, worst first.

    `missing` is read once (a common table expression used twice): how many cadres there
    are and the `cap`-th largest count, then the names of the cadres with at least that
    count only — a county root can have a hundred thousand cadres behind, and ordering them
    all by name costs more than counting them. The cadres on leave (few, found through
    the index on `leave_until`) are left out as a list, not by reading every cadre."""
    on_leave = select(Cadre.id).where(Cadre.leave_until >= today)
    m = (
        select(missing.c.cadre_id, missing.c.missing)
        .where(missing.c.cadre_id.not_in(on_leave))
        .cte("behind")
    )
    top = (
        select(m.c.missing, func.count().over().label("total"))
        .order_by(m.c.missing.desc())
        .limit(cap)
        .subquery("top")
    )
    floor = select(
        func.min(top.c.missing).label("floor"), func.max(top.c.total).label("total")
    ).subquery("floor")
    rows = list(
        await session.execute(
            select(Cadre.id, Cadre.name, Unit.name.label("unit"), m.c.missing, floor.c.total)
            .select_from(m)
            .join(floor, m.c.missing >= floor.c.floor)
            .join(Cadre, Cadre.id == m.c.cadre_id)
            .join(Unit, Unit.id == Cadre.unit_id)
            .order_by(m.c.missing.desc(), Cadre.name, Cadre.id)
            .limit(cap)
        )
    )
    out = [NamedCount(r.id, r.name, int(r.missing), unit=r.unit) for r in rows]
    return (int(rows[0].total) if rows else 0), out


async def on_leave_in_scope(
    session: AsyncSession, scope: FromClause, today: date, cap: int
) -> tuple[int, list[NamedCount]]:
    return await on_leave_where(session, Cadre.id.in_(select(scope.c.cadre_id)), today, cap)


async def on_leave_where(
    session: AsyncSession, in_scope: Any, today: date, cap: int
) -> tuple[int, list[NamedCount]]:
    """Cadres for whom `in_scope` holds, on leave on `today`, longest leave first."""
    rows = await session.execute(
        select(
            Cadre.id,
            Cadre.name,
            Unit.name.label("unit"),
            Cadre.leave_until,
            func.count().over().label("total"),
        )
        .join(Unit, Unit.id == Cadre.unit_id)
        .where(Cadre.leave_until >= today, in_scope)
        .order_by(Cadre.leave_until.desc(), Cadre.name, Cadre.id)
        .limit(cap)
    )
    out = [(NamedCount(r.id, r.name, until=r.leave_until, unit=r.unit), int(r.total)) for r in rows]
    return (out[0][1] if out else 0), [n for n, _ in out]


async def unreachable_in_scope(
    session: AsyncSession, scope: FromClause, cap: int
) -> tuple[int, list[NamedCount]]:
    """Cadres with no chat account the bot can reach (none bound, or every one blocked)."""
    return await unreachable_where(session, Cadre.id.in_(select(scope.c.cadre_id)), cap)


async def unreachable_where(
    session: AsyncSession, in_scope: Any, cap: int
) -> tuple[int, list[NamedCount]]:
    """Cadres for whom `in_scope` holds with no chat account the bot can reach."""
    reachable = exists().where(ChatAccount.cadre_id == Cadre.id, ChatAccount.blocked_at.is_(None))
    rows = await session.execute(
        select(Cadre.id, Cadre.name, Unit.name.label("unit"), func.count().over().label("total"))
        .join(Unit, Unit.id == Cadre.unit_id)
        # The account test first: SQLite tests the terms in this order, and most cadres
        # are reachable (a third less work for a county root than scope first).
        .where(~reachable, in_scope)
        .order_by(Cadre.name, Cadre.id)
        .limit(cap)
    )
    out = [(NamedCount(r.id, r.name, unit=r.unit), int(r.total)) for r in rows]
    return (out[0][1] if out else 0), [n for n, _ in out]


async def behind_kept(
    session: AsyncSession, month: date, today: date, cap: int
) -> tuple[int, list[NamedCount]]:
    """As behind_named for the only root's scope, from `cadre_scope` when `month` (the
    contact block's start) is the calendar month of `today` and no pair has a later contact.

    A county root can have 178,000 cadres behind among 200,000 (a million pairings): they
    are counted in one pass and the cadres on leave (few, by the index on `leave_until`)
    subtracted, instead of testing each against the leave list; the `cap`-th largest count
    is found among the largest `cap` + (cadres behind on leave) counts, which hold at least
    `cap` cadres at work; then only the cadres with at least that count are named."""
    cs = CadreScope
    behind = or_(cs.month < month, cs.pairs > cs.in_month)
    missing = (cs.pairs - case((cs.month >= month, cs.in_month), else_=0)).label("missing")
    on_leave = Cadre.leave_until >= today
    counts = (
        await session.execute(
            select(
                select(func.count()).select_from(cs).where(behind).scalar_subquery(),
                select(func.count())
                .select_from(Cadre)
                .join(cs, cs.cadre_id == Cadre.id)
                .where(on_leave, behind)
                .scalar_subquery(),
            )
        )
    ).one()
    total, away = int(counts[0]) - int(counts[1]), int(counts[1])
    if total == 0:
        return 0, []
    leave_ids = select(Cadre.id).where(on_leave)
    largest = (
        select(cs.cadre_id, missing).where(behind).order_by(missing.desc()).limit(cap + away)
    ).subquery("largest")
    at_work = (
        select(largest.c.missing)
        .where(largest.c.cadre_id.not_in(leave_ids))
        .order_by(largest.c.missing.desc())
        .limit(cap)
        .subquery("at_work")
    )
    floor = select(func.min(at_work.c.missing)).scalar_subquery()
    rows = await session.execute(
        select(Cadre.id, Cadre.name, Unit.name.label("unit"), missing)
        .select_from(cs)
        .join(Cadre, Cadre.id == cs.cadre_id)
        .join(Unit, Unit.id == Cadre.unit_id)
        .where(behind, missing >= floor, cs.cadre_id.not_in(leave_ids))
        .order_by(missing.desc(), Cadre.name, Cadre.id)
        .limit(cap)
    )
    return total, [NamedCount(r.id, r.name, int(r.missing), unit=r.unit) for r in rows]


async def unreachable_kept(session: AsyncSession, cap: int) -> tuple[int, list[NamedCount]]:
    """As unreachable_where for the only root's scope: its cadres with no reachable chat
    account, kept in `cadre_scope`. Counted through its index on `reach`; the first `cap`
    named by reading cadres in name order (index on name, id), each tested by key, instead
    of sorting every unreachable cadre's name (22,000 at a million pairings)."""
    cs = CadreScope
    unreachable = select(cs.cadre_id).where(cs.cadre_id == Cadre.id, cs.reach == 0).exists()
    total = select(func.count()).select_from(cs).where(cs.reach == 0).scalar_subquery()
    rows = list(
        await session.execute(
            select(Cadre.id, Cadre.name, Unit.name.label("unit"), total.label("total"))
            .join(Unit, Unit.id == Cadre.unit_id)
            .where(unreachable)
            .order_by(Cadre.name, Cadre.id)
            .limit(cap)
        )
    )
    out = [NamedCount(r.id, r.name, unit=r.unit) for r in rows]
    return (int(rows[0].total) if rows else 0), out


async def cadres_behind(
    session: AsyncSession, unit: Unit, w: Window, *, cap: int
) -> tuple[int, list[NamedCount]]:
    """Cadres of the subtree behind on this month's contacts: total and the worst `cap`."""
    return await behind_in_scope(session, scope(unit.path, w.today), w, cap)


async def overdue_events(
    session: AsyncSession, unit: Unit, today: date, *, limit: int
) -> tuple[int, list[OverdueEvent]]:
    """Event visits past their due day in the subtree, most overdue first, and their total."""
    sc = scope(unit.path, today)
    households = select(sc.c.household_id).distinct().subquery("hh")
    ev = open_events(households, today).where(Event.visit_due_on < today).subquery("ev")
    village = aliased(Unit)
    rows = await session.execute(
        select(
            ev.c.id,
            Household.head_name,
            village.name.label("village"),
            Cadre.name.label("cadre"),
            ev.c.kind,
            ev.c.occurred_on,
            ev.c.visit_due_on,
            func.count().over().label("total"),
        )
        .join(Household, Household.id == ev.c.household_id)
        .join(village, village.id == Household.village_id)
        .join(Cadre, Cadre.id == ev.c.cadre_id)
        .order_by(ev.c.visit_due_on, ev.c.id)
        .limit(limit)
    )
    rows_ = list(rows)
    out = [
        OverdueEvent(r.id, r.head_name, r.village, r.cadre, r.kind, r.occurred_on, r.visit_due_on)
        for r in rows_
    ]
    return (int(rows_[0].total) if rows_ else 0), out
