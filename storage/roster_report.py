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


@dataclass(frozen=True, slots=True)
class CategoryMiss:
    """A leader whose households break the category quota: what is missing, what doubled."""

    load: CadreLoad
    missing: tuple[str, ...]
    doubled: tuple[str, ...]


def household_categories(category: str, tags: list[str] | None, party_member: bool) -> set[str]:
    """What a household counts as: its 类别 tags, its category, 党员 for a party member."""
    found = {category, *(tags or [])}
    if party_member:
        found.add("党员")
    return found


async def category_misses(
    session: AsyncSession, loads: list[CadreLoad], ranks: list[str], wanted: tuple[str, ...]
) -> list[CategoryMiss]:
    """Leaders (cadres of `ranks`) without exactly one active household of each wanted category."""
    leaders = {load.cadre_id: load for load in loads if load.rank in ranks}
    counts: dict[int, dict[str, int]] = {cid: dict.fromkeys(wanted, 0) for cid in leaders}
    ids = sorted(leaders)
    for start in range(0, len(ids), 2000):
        stmt = (
            select(Pairing.cadre_id, Household.category, Household.tags, Household.party_member)
            .join(Household, Household.id == Pairing.household_id)
            .where(
                Pairing.cadre_id.in_(ids[start : start + 2000]),
                Pairing.active.is_(True),
                Household.status == "active",
            )
        )
        for cid, category, tags, party in await session.execute(stmt):
            for name in household_categories(category, tags, party) & set(wanted):
                counts[cid][name] += 1
    misses = []
    for cid, load in leaders.items():
        missing = tuple(c for c in wanted if counts[cid][c] == 0)
        doubled = tuple(c for c in wanted if counts[cid][c] > 1)
        if missing or doubled:
            misses.append(CategoryMiss(load, missing, doubled))
    return misses
