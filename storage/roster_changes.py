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
