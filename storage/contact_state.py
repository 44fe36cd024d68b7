"""The kept contact state (tables `contact_state` and `contact_months`, kept by triggers)
checked against the records.

`drift` recomputes every (cadre, household)'s last call, last visit and last duty contact from
the live contacts and lists each row where the kept state differs; `repair` rewrites the kept
rows from the recomputation. Used by `bangfu doctor` and by the tests that prove the triggers
keep up with every writer. Both states are read one range of cadre ids at a time, so memory
stays bounded by the range (and the drift found), not by the county. `month_drift` and
`repair_months` do the same for each household's duty contacts and home visits per month
(by ranges of household ids), and `household_drift` and `repair_households` for each
household's last duty contact and home visit by any cadre (`household_state`);
`village_drift` and `repair_villages` for each village's households contacted per month
(`village_months`, against `contact_months`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Select, case, cast, delete, func, insert, select, tuple_, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from storage.duties import CONTACT_KINDS as DUTY_KINDS
from storage.duties import CadreRange
from storage.models import (
    Contact,
    ContactMonth,
    ContactState,
    Household,
    HouseholdState,
    VillageMonth,
)

State = tuple[date | None, date | None, date | None]  # last call, last visit, last contact
Key = tuple[int, int]  # (cadre_id, household_id)
RANGE_CADRES = 5000  # cadre ids read at once when the whole state is checked


@dataclass(frozen=True, slots=True)
class Drift:
    cadre_id: int
    household_id: int
    kept: State | None  # None: no kept row
    recomputed: State | None  # None: no live duty contact


def _in(stmt: Select, column: Any, cadres: CadreRange | None) -> Select:
    if cadres is None:
        return stmt
    return stmt.where(column > cadres[0], column <= cadres[1])


async def recomputed_state(
    session: AsyncSession, cadres: CadreRange | None = None
) -> dict[Key, State]:
    """The state as the contacts say it is (ignores the kept table), of `cadres` if given."""
    stmt = (
        select(
            Contact.cadre_id,
            Contact.household_id,
            func.max(case((Contact.kind == "call", Contact.occurred_on))),
            func.max(case((Contact.kind == "visit", Contact.occurred_on))),
            func.max(Contact.occurred_on),
        )
        .where(Contact.deleted_at.is_(None), Contact.kind.in_(DUTY_KINDS))
        .group_by(Contact.cadre_id, Contact.household_id)
    )
    stmt = _in(stmt, Contact.cadre_id, cadres)
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in (await session.execute(stmt)).all()}


async def kept_state(session: AsyncSession, cadres: CadreRange | None = None) -> dict[Key, State]:
    stmt = select(
        ContactState.cadre_id,
        ContactState.household_id,
        ContactState.last_call_on,
        ContactState.last_visit_on,
        ContactState.last_contact_on,
    )
    stmt = _in(stmt, ContactState.cadre_id, cadres)
    out: dict[Key, State] = {}
    for r in (await session.execute(stmt)).all():
        if r[2] or r[3] or r[4]:  # an all-empty row says the same as no row
            out[(r[0], r[1])] = (r[2], r[3], r[4])
    return out


async def check(session: AsyncSession, *, step: int = RANGE_CADRES) -> tuple[list[Drift], int]:
    """Every drifted (cadre, household) in key order, and how many pairs the contacts have,
    compared `step` cadre ids at a time."""
    top = await _top_id(session, (Contact.cadre_id, ContactState.cadre_id))
    found: list[Drift] = []
    pairs = 0
    for lo in range(0, top, step):
        cadres = (lo, lo + step)
        kept, true = await kept_state(session, cadres), await recomputed_state(session, cadres)
        pairs += len(true)
        found += [Drift(k[0], k[1], a, b) for k, a, b in _differences(kept, true)]
    return found, pairs


async def _top_id(session: AsyncSession, columns: Sequence[Any]) -> int:
    """The largest id in any of `columns` (0 when all are empty): where ranged reads stop."""
    top = 0
    for column in columns:
        top = max(top, int(await session.scalar(select(func.max(column))) or 0))
    return top


def _differences(kept: dict[Any, Any], true: dict[Any, Any], missing: Any = None) -> list[Any]:
    """(key, kept, recomputed) of every key whose two readings differ, in key order; a key
    absent from one side reads as `missing` there."""
    return [
        (k, kept.get(k, missing), true.get(k, missing))
        for k in sorted(kept.keys() | true.keys())
        if kept.get(k, missing) != true.get(k, missing)
    ]


async def drift(session: AsyncSession) -> list[Drift]:
    """Every (cadre, household) whose kept state differs from its contacts, in key order."""
    return (await check(session))[0]


async def repair(session: AsyncSession) -> int:
    """Rewrite the drifted kept rows from the contacts; returns how many had drifted."""
    found = await drift(session)
    await _rewrite(
        session,
        ContactState,
        (ContactState.cadre_id, ContactState.household_id),
        [(d.cadre_id, d.household_id) for d in found],
        [
            {
                "cadre_id": d.cadre_id,
                "household_id": d.household_id,
                "last_call_on": d.recomputed[0],
                "last_visit_on": d.recomputed[1],
                "last_contact_on": d.recomputed[2],
            }
            for d in found
            if d.recomputed is not None
        ],
    )
    return len(found)


async def _rewrite(
    session: AsyncSession, table: Any, key: tuple[Any, ...], drifted: list[Any], rows: list[Any]
) -> None:
    """Delete the drifted keys' kept rows and insert the recomputed ones, 400 at a time."""
    for start in range(0, len(drifted), 400):
        part = drifted[start : start + 400]
        await session.execute(delete(table).where(tuple_(*key).in_(part)))
    for start in range(0, len(rows), 400):
        await session.execute(insert(table), rows[start : start + 400])


RANGE_HOUSEHOLDS = 20000  # household ids whose monthly counts are read at once

MonthKey = tuple[int, date]  # (household_id, the month's first day)
MonthRow = tuple[int, int, int]  # village_id, live duty contacts, of them home visits


@dataclass(frozen=True, slots=True)
class MonthDrift:
    household_id: int
    month: date
    kept: MonthRow | None  # None: no kept row (or an all-zero one)
    recomputed: MonthRow | None  # None: no live duty contact that month


async def recomputed_months(
    session: AsyncSession, households: tuple[int, int] | None = None
) -> dict[MonthKey, MonthRow]:
    """contact_months as the contacts say it is: per household and month, its village, its
    live duty contacts and how many of them were home visits (of household ids in the range
    (low, high] when given)."""
    c = Contact
    if session.get_bind().dialect.name == "sqlite":
        month: Any = type_coerce(func.date(c.occurred_on, "start of month"), Date)
    else:
        month = cast(func.date_trunc("month", c.occurred_on), Date)
    stmt = (
        select(
            c.household_id,
            month,
            Household.village_id,
            func.count(),
            func.sum(case((c.kind == "visit", 1), else_=0)),
        )
        .join(Household, Household.id == c.household_id)
        .where(c.deleted_at.is_(None), c.kind.in_(DUTY_KINDS))
        .group_by(c.household_id, month, Household.village_id)
    )
    rows = await session.execute(_in(stmt, c.household_id, households))
    return {(r[0], r[1]): (r[2], int(r[3]), int(r[4])) for r in rows}


async def kept_months(
    session: AsyncSession, households: tuple[int, int] | None = None
) -> dict[MonthKey, MonthRow]:
    stmt = select(
        ContactMonth.household_id,
        ContactMonth.month,
        ContactMonth.village_id,
        ContactMonth.n,
        ContactMonth.visits,
    )
    rows = await session.execute(_in(stmt, ContactMonth.household_id, households))
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows if r[3] or r[4]}


async def _by_household_ranges(
    session: AsyncSession, top: Any, kept: Any, true: Any, step: int
) -> list[tuple[Any, Any, Any]]:
    """(key, kept, recomputed) of every key whose two readings differ, in key order; both
    read `step` household ids at a time, up to the largest of `top`'s ids."""
    found: list[tuple[Any, Any, Any]] = []
    for low in range(0, await _top_id(session, top), step):
        part = (low, low + step)
        found += _differences(await kept(session, part), await true(session, part))
    return found


async def month_drift(session: AsyncSession, *, step: int = RANGE_HOUSEHOLDS) -> list[MonthDrift]:
    """Every (household, month) whose kept counts differ from its contacts, in key order;
    read `step` household ids at a time."""
    top = (Household.id, ContactMonth.household_id)
    found = await _by_household_ranges(session, top, kept_months, recomputed_months, step)
    return [MonthDrift(k[0], k[1], kept, true) for k, kept, true in found]


async def repair_months(session: AsyncSession) -> int:
    """Rewrite the drifted contact_months rows from the contacts; returns how many drifted."""
    found = await month_drift(session)
    await _rewrite(
        session,
        ContactMonth,
        (ContactMonth.household_id, ContactMonth.month),
        [(d.household_id, d.month) for d in found],
        [
            {
                "household_id": d.household_id,
                "month": d.month,
                "village_id": d.recomputed[0],
                "n": d.recomputed[1],
                "visits": d.recomputed[2],
            }
            for d in found
            if d.recomputed is not None
        ],
    )
    return len(found)


HouseholdRow = tuple[date | None, date | None]  # last live duty contact, last home visit


@dataclass(frozen=True, slots=True)
class HouseholdDrift:
    household_id: int
    kept: HouseholdRow | None  # None: no kept row (or an all-empty one)
    recomputed: HouseholdRow | None  # None: no live duty contact


async def recomputed_households(
    session: AsyncSession, households: tuple[int, int] | None = None
) -> dict[int, HouseholdRow]:
    """household_state as the contacts say it is: each household's last live duty contact
    and home visit by any cadre (of household ids in the range (low, high] when given)."""
    c = Contact
    stmt = (
        select(
            c.household_id,
            func.max(c.occurred_on),
            func.max(case((c.kind == "visit", c.occurred_on))),
        )
        .where(c.deleted_at.is_(None), c.kind.in_(DUTY_KINDS))
        .group_by(c.household_id)
    )
    rows = await session.execute(_in(stmt, c.household_id, households))
    return {r[0]: (r[1], r[2]) for r in rows}


async def kept_households(
    session: AsyncSession, households: tuple[int, int] | None = None
) -> dict[int, HouseholdRow]:
    hs = HouseholdState
    stmt = select(hs.household_id, hs.last_contact_on, hs.last_visit_on)
    rows = await session.execute(_in(stmt, hs.household_id, households))
    return {r[0]: (r[1], r[2]) for r in rows if r[1] or r[2]}


async def household_drift(
    session: AsyncSession, *, step: int = RANGE_HOUSEHOLDS
) -> list[HouseholdDrift]:
    """Every household whose kept last dates differ from its contacts, in id order."""
    top = (Household.id, HouseholdState.household_id)
    found = await _by_household_ranges(session, top, kept_households, recomputed_households, step)
    return [HouseholdDrift(k, kept, true) for k, kept, true in found]


async def repair_households(session: AsyncSession) -> int:
    """Rewrite the drifted household_state rows from the contacts; returns how many drifted."""
    found = await household_drift(session)
    await _rewrite(
        session,
        HouseholdState,
        (HouseholdState.household_id,),
        [(d.household_id,) for d in found],
        [
            {"household_id": d.household_id, "last_contact_on": d.recomputed[0],
             "last_visit_on": d.recomputed[1]}
            for d in found
            if d.recomputed is not None
        ],
    )  # fmt: skip
    return len(found)


VillageKey = tuple[int, date]  # (village_id, the month's first day)


@dataclass(frozen=True, slots=True)
class VillageDrift:
    village_id: int
    month: date
    kept: int  # households counted in the kept row (0: none)
    recomputed: int  # its households with a live duty contact that month


async def village_drift(session: AsyncSession) -> list[VillageDrift]:
    """Every (village, month) whose kept count of households contacted differs from
    `contact_months` (itself checked against the contacts by `month_drift`), in key order.
    A county has a few thousand such rows: read at once."""
    vm, cm = VillageMonth, ContactMonth
    kept = {
        (r[0], r[1]): int(r[2])
        for r in await session.execute(select(vm.village_id, vm.month, vm.households))
        if r[2]
    }
    true = {
        (r[0], r[1]): int(r[2])
        for r in await session.execute(
            select(cm.village_id, cm.month, func.count())
            .where(cm.n > 0)
            .group_by(cm.village_id, cm.month)
        )
    }
    return [VillageDrift(k[0], k[1], a, b) for k, a, b in _differences(kept, true, missing=0)]


async def repair_villages(session: AsyncSession) -> int:
    """Rewrite the drifted village_months rows from contact_months; returns how many."""
    found = await village_drift(session)
    await _rewrite(
        session,
        VillageMonth,
        (VillageMonth.village_id, VillageMonth.month),
        [(d.village_id, d.month) for d in found],
        [
            {"village_id": d.village_id, "month": d.month, "households": d.recomputed}
            for d in found
            if d.recomputed
        ],
    )
    return len(found)
