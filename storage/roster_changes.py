"""A roster that changes: pairings that end, cadres who move or leave, households that exit.

Nothing is deleted: an ended pairing keeps its dates and reason, an inactive cadre or
household keeps its records; reminders and digests read only what is still active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.batch import chunks
from storage.models import Cadre, Household, Invite, Pairing, Unit
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
    village = Unit.__table__.alias("village")
    return (
        select(
            Pairing.id,
            Pairing.cadre_id,
            Cadre.name,
            Cadre.phone,
            Pairing.household_id,
            Household.head_name,
            Household.code,
            village.c.path,
        )
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .join(Household, Household.id == Pairing.household_id)
        .join(village, village.c.id == Household.village_id)
        .where(Pairing.active.is_(True))
        .order_by(Cadre.phone, Household.id)
    )


async def active_pairings(
    session: AsyncSession,
    *,
    cadre_ids: Sequence[int] = (),
    household_ids: Sequence[int] = (),
) -> list[PairingLine]:
    """Active pairings of these cadres, or of these households."""
    out: list[PairingLine] = []
    column, keys = (
        (Pairing.cadre_id, cadre_ids) if cadre_ids else (Pairing.household_id, household_ids)
    )
    for part in chunks(list(keys)):
        stmt = _pairing_lines().where(column.in_(part))  # type: ignore[attr-defined]
        out.extend(PairingLine(*row) for row in await session.execute(stmt))
    return out


async def end_pairings(
    session: AsyncSession, pairing_ids: Sequence[int], *, on: date, reason: str
) -> None:
    """End these pairings on `on` with a reason; the rows stay as history."""
    for part in chunks(list(pairing_ids)):
        await session.execute(
            update(Pairing)
            .where(Pairing.id.in_(part), Pairing.active.is_(True))
            .values(active=False, end_date=on, end_reason=reason[:100])
        )


async def set_cadres_inactive(
    session: AsyncSession, cadre_ids: Sequence[int], *, now: datetime
) -> None:
    """Cadres who left: no reminders, no scores; their unused codes can no longer bind."""
    for part in chunks(list(cadre_ids)):
        await session.execute(update(Cadre).where(Cadre.id.in_(part)).values(active=False))
        await session.execute(
            update(Invite)
            .where(Invite.cadre_id.in_(part), Invite.used_at.is_(None), Invite.expires_at > now)
            .values(expires_at=now)
        )


async def set_households_status(
    session: AsyncSession, household_ids: Sequence[int], status: str
) -> None:
    for part in chunks(list(household_ids)):
        await session.execute(update(Household).where(Household.id.in_(part)).values(status=status))


async def move_cadre(session: AsyncSession, cadre_id: int, unit_id: int) -> None:
    await session.execute(update(Cadre).where(Cadre.id == cadre_id).values(unit_id=unit_id))


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """A cadre the file places in the unit, but who belongs to a unit outside it."""

    phone: str
    name: str
    unit_path: str


async def cadres_elsewhere(
    session: AsyncSession, phones: Sequence[str], unit_path: str
) -> list[Elsewhere]:
    """Cadres with these phones whose unit is outside `unit_path`'s subtree."""
    out: list[Elsewhere] = []
    for part in chunks(sorted(set(phones))):
        rows = await session.execute(
            select(Cadre.phone, Cadre.name, Unit.path)
            .join(Unit, Unit.id == Cadre.unit_id)
            .where(Cadre.phone.in_(part), ~in_subtree(Unit.path, unit_path))
            .order_by(Cadre.phone)
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
    session: AsyncSession,
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
    in_unit = select(Unit.id).where(in_subtree(Unit.path, unit_path)).scalar_subquery()
    lines = [
        PairingLine(*row)
        for row in await session.execute(
            _pairing_lines().where(Cadre.unit_id.in_(in_unit))  # type: ignore[attr-defined]
        )
    ]
    ended = [p for p in lines if (p.cadre_id, p.household_id) not in kept_pairs]
    await end_pairings(session, [p.id for p in ended], on=on, reason=reason)
    cadre_rows = await session.execute(
        select(Cadre.id, Cadre.name, Cadre.phone)
        .where(Cadre.unit_id.in_(in_unit), Cadre.active.is_(True))
        .order_by(Cadre.phone)
    )
    cadres = [Gone(*row) for row in cadre_rows if row[0] not in kept_cadres]
    await set_cadres_inactive(session, [c.id for c in cadres], now=now)
    households = await _orphaned(session, ended, kept_households)
    await set_households_status(session, [h.id for h in households], HOUSEHOLD_INACTIVE)
    await _revive_households(session, kept_households)
    return Replaced(ended, cadres, households)


async def _orphaned(session: AsyncSession, ended: list[PairingLine], kept: set[int]) -> list[Gone]:
    """Households of the ended pairings that the file dropped and nobody else pairs with."""
    candidates = {p.household_id: p for p in ended if p.household_id not in kept}
    still: set[int] = set()
    for part in chunks(sorted(candidates)):
        rows = await session.scalars(
            select(Pairing.household_id).where(
                Pairing.household_id.in_(part), Pairing.active.is_(True)
            )
        )
        still.update(rows)
    return [
        Gone(hid, p.head_name, f"{p.village} {p.household_code or ''}".strip())
        for hid, p in sorted(candidates.items())
        if hid not in still
    ]


async def _revive_households(session: AsyncSession, household_ids: set[int]) -> None:
    """Households back on a roster are active again (an exit stays an exit)."""
    for part in chunks(sorted(household_ids)):
        await session.execute(
            update(Household)
            .where(Household.id.in_(part), Household.status == HOUSEHOLD_INACTIVE)
            .values(status="active")
        )
