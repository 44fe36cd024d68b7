"""What a roster looks like after an import: cadres' loads and households nobody answers for."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Exists, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cadre, Household, Pairing, Unit


@dataclass(frozen=True, slots=True)
class CadreLoad:
    cadre_id: int
    name: str
    phone: str
    rank: str
    unit_path: str
    households: int  # active pairings


@dataclass(frozen=True, slots=True)
class Uncovered:
    household_id: int
    head_name: str
    code: str | None
    village_path: str


async def cadre_loads(session: AsyncSession) -> list[CadreLoad]:
    """Every active cadre with the number of households actively paired with them."""
    paired = (
        select(Pairing.cadre_id, func.count().label("n"))
        .where(Pairing.active.is_(True))
        .group_by(Pairing.cadre_id)
        .subquery()
    )
    stmt = (
        select(
            Cadre.id,
            Cadre.name,
            Cadre.phone,
            Cadre.rank,
            Unit.path,
            func.coalesce(paired.c.n, 0),
        )
        .join(Unit, Unit.id == Cadre.unit_id)
        .outerjoin(paired, paired.c.cadre_id == Cadre.id)
        .where(Cadre.active.is_(True))
        .order_by(Unit.path, Cadre.name, Cadre.id)
    )
    return [CadreLoad(*row) for row in (await session.execute(stmt))]


def _responsible_exists() -> Exists:
    return exists().where(
        and_(
            Pairing.household_id == Household.id,
            Pairing.active.is_(True),
            Cadre.id == Pairing.cadre_id,
            Cadre.active.is_(True),
        )
    )


async def uncovered_households(session: AsyncSession, *, limit: int) -> tuple[int, list[Uncovered]]:
    """Active households with no active pairing to an active cadre: how many, and the first few."""
    where = and_(Household.status == "active", ~_responsible_exists())
    total = await session.scalar(select(func.count()).select_from(Household).where(where)) or 0
    stmt = (
        select(Household.id, Household.head_name, Household.code, Unit.path)
        .join(Unit, Unit.id == Household.village_id)
        .where(where)
        .order_by(Unit.path, Household.head_name, Household.id)
        .limit(limit)
    )
    return total, [Uncovered(*row) for row in (await session.execute(stmt))]
