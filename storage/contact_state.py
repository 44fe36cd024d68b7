"""The kept contact state (table `contact_state`, kept by triggers) checked against the records.

`drift` recomputes every (cadre, household)'s last call, last visit and last duty contact from
the live contacts and lists each row where the kept state differs; `repair` rewrites the kept
rows from the recomputation. Used by `bangfu doctor` and by the tests that prove the triggers
keep up with every writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, delete, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.duties import CONTACT_KINDS as DUTY_KINDS
from storage.models import Contact, ContactState

State = tuple[date | None, date | None, date | None]  # last call, last visit, last contact
Key = tuple[int, int]  # (cadre_id, household_id)


@dataclass(frozen=True, slots=True)
class Drift:
    cadre_id: int
    household_id: int
    kept: State | None  # None: no kept row
    recomputed: State | None  # None: no live duty contact


async def recomputed_state(session: AsyncSession) -> dict[Key, State]:
    """The state as the contacts say it is (ignores the kept table)."""
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
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in (await session.execute(stmt)).all()}


async def kept_state(session: AsyncSession) -> dict[Key, State]:
    stmt = select(
        ContactState.cadre_id,
        ContactState.household_id,
        ContactState.last_call_on,
        ContactState.last_visit_on,
        ContactState.last_contact_on,
    )
    out: dict[Key, State] = {}
    for r in (await session.execute(stmt)).all():
        if r[2] or r[3] or r[4]:  # an all-empty row says the same as no row
            out[(r[0], r[1])] = (r[2], r[3], r[4])
    return out


async def drift(session: AsyncSession) -> list[Drift]:
    """Every (cadre, household) whose kept state differs from its contacts, in key order."""
    kept, true = await kept_state(session), await recomputed_state(session)
    return [
        Drift(k[0], k[1], kept.get(k), true.get(k))
        for k in sorted(kept.keys() | true.keys())
        if kept.get(k) != true.get(k)
    ]


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
