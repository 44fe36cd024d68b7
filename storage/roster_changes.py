"""A roster that changes: pairings that end, cadres who move or leave, households that exit.

Nothing is deleted: an ended pairing keeps its dates and reason, an inactive cadre or
household keeps its records; reminders and digests read only what is still active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update

from storage.batch import chunks
from storage.core_db import Executor
from storage.tables import cadres, households, invites, pairings, units
from storage.unit_paths import in_subtree

HOUSEHOLD_INACTIVE = "inactive"  # no longer on the roster: no duties, not "uncovered"


@dataclass(frozen=True, slots=True)
class PairingLine:
    """An active pairing described for a person: who, which household, where."""

    id: int
    cadre_id: int
    cadre_name: str
    cadre_phone: str
    household_id: int
    head_name: str
    household_code: str | None
    village: str


def _pairing_lines() -> object:
    village = units.alias("village")
    return (
        select(
            pairings.c.id,
            pairings.c.cadre_id,
            cadres.c.name,
            cadres.c.phone,
            pairings.c.household_id,
            households.c.head_name,
            households.c.code,
            village.c.path,
        )
        .join(cadres, cadres.c.id == pairings.c.cadre_id)
        .join(households, households.c.id == pairings.c.household_id)
        .join(village, village.c.id == households.c.village_id)
        .where(pairings.c.active.is_(True))
        .order_by(cadres.c.phone, households.c.id)
    )


async def active_pairings(
    session: Executor,
    *,
    cadre_ids: Sequence[int] = (),
    household_ids: Sequence[int] = (),
) -> list[PairingLine]:
    """Active pairings of these cadres, or of these households."""
    out: list[PairingLine] = []
    column, keys = (
        (pairings.c.cadre_id, cadre_ids) if cadre_ids else (pairings.c.household_id, household_ids)
    )
    for part in chunks(list(keys)):
        stmt = _pairing_lines().where(column.in_(part))  # type: ignore[attr-defined]
        out.extend(PairingLine(*row) for row in await session.execute(stmt))
    return out


async def end_pairings(
    session: Executor, pairing_ids: Sequence[int], *, on: date, reason: str
) -> None:
    """End these pairings on `on` with a reason; the rows stay as history."""
    for part in chunks(list(pairing_ids)):
        await session.execute(
            update(pairings)
            .where(pairings.c.id.in_(part), pairings.c.active.is_(True))
            .values(active=False, end_date=on, end_reason=reason[:100])
        )


async def set_cadres_inactive(
    session: Executor, cadre_ids: Sequence[int], *, now: datetime
) -> None:
    """Cadres who left: no reminders, no scores; their unused codes can no longer bind."""
    for part in chunks(list(cadre_ids)):
        await session.execute(update(cadres).where(cadres.c.id.in_(part)).values(active=False))
        await session.execute(
            update(invites)
            .where(
                invites.c.cadre_id.in_(part),
                invites.c.used_at.is_(None),
                invites.c.expires_at > now,
            )
            .values(expires_at=now)
        )


async def set_households_status(
    session: Executor, household_ids: Sequence[int], status: str
) -> None:
    for part in chunks(list(household_ids)):
        await session.execute(
            update(households).where(households.c.id.in_(part)).values(status=status)
        )


async def move_cadre(session: Executor, cadre_id: int, unit_id: int) -> None:
    await session.execute(update(cadres).where(cadres.c.id == cadre_id).values(unit_id=unit_id))


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """A cadre the file places in the unit, but who belongs to a unit outside it."""

    phone: str
    name: str
    unit_path: str


async def cadres_elsewhere(
    session: Executor, phones: Sequence[str], unit_path: str
) -> list[Elsewhere]:
    """Cadres with these phones whose unit is outside `unit_path`'s subtree."""
    out: list[Elsewhere] = []
    for part in chunks(sorted(set(phones))):
        rows = await session.execute(
            select(cadres.c.phone, cadres.c.name, units.c.path)
            .join(units, units.c.id == cadres.c.unit_id)
            .where(cadres.c.phone.in_(part), ~in_subtree(units.c.path, unit_path))
            .order_by(cadres.c.phone)
        )
        out.extend(Elsewhere(*row) for row in rows)
    return out


@dataclass(frozen=True, slots=True)
class Gone:
    """A cadre or household the replacing file no longer lists."""

    id: int
    name: str
    detail: str  # phone for a cadre, village path (and code) for a household


@dataclass
class Replaced:
    """What a --replace import ended: pairings, and cadres and households marked inactive."""

    pairings: list[PairingLine]
    cadres: list[Gone]
    households: list[Gone]


async def replace_unit(
    session: Executor,
    unit_path: str,
    *,
    kept_pairs: set[tuple[int, int]],
    kept_cadres: set[int],
    kept_households: set[int],
    on: date,
    reason: str,
    now: datetime,
) -> Replaced:
    """End what the unit's complete roster no longer lists; history stays."""
    in_unit = select(units.c.id).where(in_subtree(units.c.path, unit_path)).scalar_subquery()
    lines = [
        PairingLine(*row)
        for row in await session.execute(
            _pairing_lines().where(cadres.c.unit_id.in_(in_unit))  # type: ignore[attr-defined]
        )
    ]
    ended = [p for p in lines if (p.cadre_id, p.household_id) not in kept_pairs]
    await end_pairings(session, [p.id for p in ended], on=on, reason=reason)
    cadre_rows = await session.execute(
        select(cadres.c.id, cadres.c.name, cadres.c.phone)
        .where(cadres.c.unit_id.in_(in_unit), cadres.c.active.is_(True))
        .order_by(cadres.c.phone)
    )
    gone = [Gone(*row) for row in cadre_rows if row[0] not in kept_cadres]
    await set_cadres_inactive(session, [c.id for c in gone], now=now)
    orphaned = await _orphaned(session, ended, kept_households)
    await set_households_status(session, [h.id for h in orphaned], HOUSEHOLD_INACTIVE)
    await _revive_households(session, kept_households)
    return Replaced(ended, gone, orphaned)


async def _orphaned(session: Executor, ended: list[PairingLine], kept: set[int]) -> list[Gone]:
    """Households of the ended pairings that the file dropped and nobody else pairs with."""
    candidates = {p.household_id: p for p in ended if p.household_id not in kept}
    still: set[int] = set()
    for part in chunks(sorted(candidates)):
        rows = await session.execute(
            select(pairings.c.household_id).where(
                pairings.c.household_id.in_(part), pairings.c.active.is_(True)
            )
        )
        still.update(rows.scalars())
    return [
        Gone(hid, p.head_name, f"{p.village} {p.household_code or ''}".strip())
        for hid, p in sorted(candidates.items())
        if hid not in still
    ]


async def _revive_households(session: Executor, household_ids: set[int]) -> None:
    """Households back on a roster are active again (an exit stays an exit)."""
    for part in chunks(sorted(household_ids)):
        await session.execute(
            update(households)
            .where(households.c.id.in_(part), households.c.status == HOUSEHOLD_INACTIVE)
            .values(status="active")
        )
