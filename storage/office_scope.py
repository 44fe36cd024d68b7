"""What an office account may see: units, households and cadres within its unit's subtree."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Cadre, Household, Pairing, Unit
from storage.unit_paths import in_subtree, units_under

__all__ = [
    "cadre_in_scope",
    "household_in_scope",
    "unit_in_scope",
    "unit_path_in_scope",
    "units_under",
]


async def unit_in_scope(session: AsyncSession, unit_id: int, scope: str) -> Unit | None:
    return await session.scalar(
        select(Unit).where(Unit.id == unit_id, in_subtree(Unit.path, scope))
    )


async def unit_path_in_scope(session: AsyncSession, path: str, scope: str) -> Unit | None:
    path = path.strip().strip("/")
    return await session.scalar(select(Unit).where(Unit.path == path, in_subtree(Unit.path, scope)))


async def household_in_scope(
    session: AsyncSession, household_id: int, scope: str
) -> tuple[Household, Unit] | None:
    """A household whose village lies in the subtree, with its village."""
    row = (
        await session.execute(
            select(Household, Unit)
            .join(Unit, Unit.id == Household.village_id)
            .where(Household.id == household_id, in_subtree(Unit.path, scope))
        )
    ).first()
    return (row[0], row[1]) if row else None


async def cadre_in_scope(
    session: AsyncSession, cadre_id: int, scope: str
) -> tuple[Cadre, Unit, bool] | None:
    """A cadre who works in the subtree or was ever paired with a household in it.

    The flag says whether the cadre's own unit is in the subtree (then all their records
    show); otherwise only records about the subtree's households do.
    """
    village = aliased(Unit)
    paired_here = exists().where(
        Pairing.cadre_id == Cadre.id,
        Household.id == Pairing.household_id,
        village.id == Household.village_id,
        in_subtree(village.path, scope),
    )
    row = (
        await session.execute(
            select(Cadre, Unit)
            .join(Unit, Unit.id == Cadre.unit_id)
            .where(Cadre.id == cadre_id, or_(in_subtree(Unit.path, scope), paired_here))
        )
    ).first()
    if row is None:
        return None
    cadre, unit = row[0], row[1]
    own = unit.path == scope or unit.path.startswith(scope + "/")
    return cadre, unit, own
