"""The kept contact state (table `contact_state`, kept by triggers) checked against the records.

`drift` recomputes every (cadre, household)'s last call, last visit and last duty contact from
the live contacts and lists each row where the kept state differs; `repair` rewrites the kept
rows from the recomputation. Used by `bangfu doctor` and by the tests that prove the triggers
keep up with every writer. Both states are read one range of cadre ids at a time, so memory
stays bounded by the range (and the drift found), not by the county.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, delete, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.duties import CONTACT_KINDS as DUTY_KINDS
from storage.duties import CadreRange
from storage.models import Contact, ContactState

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
    tops = [
        await session.scalar(select(func.max(Contact.cadre_id))),
        await session.scalar(select(func.max(ContactState.cadre_id))),
    ]
    top = max((int(t) for t in tops if t is not None), default=0)
    found: list[Drift] = []
    pairs = 0
    for lo in range(0, top, step):
        cadres = (lo, lo + step)
        kept, true = await kept_state(session, cadres), await recomputed_state(session, cadres)
        pairs += len(true)
        found += [
            Drift(k[0], k[1], kept.get(k), true.get(k))
            for k in sorted(kept.keys() | true.keys())
            if kept.get(k) != true.get(k)
        ]
    return found, pairs


async def drift(session: AsyncSession) -> list[Drift]:
    """Every (cadre, household) whose kept state differs from its contacts, in key order."""
    return (await check(session))[0]


async def repair(session: AsyncSession) -> int:
    """Rewrite the drifted kept rows from the contacts; returns how many had drifted."""
    found = await drift(session)
    for start in range(0, len(found), 400):
        part = found[start : start + 400]
        await session.execute(
            delete(ContactState).where(
                tuple_(ContactState.cadre_id, ContactState.household_id).in_(
                    [(d.cadre_id, d.household_id) for d in part]
                )
            )
        )
        rows = [
            {
                "cadre_id": d.cadre_id,
                "household_id": d.household_id,
                "last_call_on": d.recomputed[0],
                "last_visit_on": d.recomputed[1],
                "last_contact_on": d.recomputed[2],
            }
            for d in part
            if d.recomputed is not None
        ]
        if rows:
            await session.execute(insert(ContactState), rows)
    return len(found)
