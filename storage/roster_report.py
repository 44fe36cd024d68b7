"""What a roster looks like after an import: cadres' loads and households nobody answers for."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Exists, and_, exists, func, select

from storage.core_db import Executor
from storage.tables import cadres, households, pairings, units


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


async def cadre_loads(session: Executor) -> list[CadreLoad]:
    """Every active cadre with the number of households actively paired with them."""
    paired = (
        select(pairings.c.cadre_id, func.count().label("n"))
        .where(pairings.c.active.is_(True))
        .group_by(pairings.c.cadre_id)
        .subquery()
    )
    stmt = (
        select(
            cadres.c.id,
            cadres.c.name,
            cadres.c.phone,
            cadres.c.rank,
            units.c.path,
            func.coalesce(paired.c.n, 0),
        )
        .join(units, units.c.id == cadres.c.unit_id)
        .outerjoin(paired, paired.c.cadre_id == cadres.c.id)
        .where(cadres.c.active.is_(True))
        .order_by(units.c.path, cadres.c.name, cadres.c.id)
    )
    return [CadreLoad(*row) for row in (await session.execute(stmt))]


def _responsible_exists() -> Exists:
    return exists().where(
        and_(
            pairings.c.household_id == households.c.id,
            pairings.c.active.is_(True),
            cadres.c.id == pairings.c.cadre_id,
            cadres.c.active.is_(True),
        )
    )


async def uncovered_households(session: Executor, *, limit: int) -> tuple[int, list[Uncovered]]:
    """Active households with no active pairing to an active cadre: how many, and the first few."""
    where = and_(households.c.status == "active", ~_responsible_exists())
    total = await session.scalar(select(func.count()).select_from(households).where(where)) or 0
    stmt = (
        select(households.c.id, households.c.head_name, households.c.code, units.c.path)
        .join(units, units.c.id == households.c.village_id)
        .where(where)
        .order_by(units.c.path, households.c.head_name, households.c.id)
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
    session: Executor, loads: list[CadreLoad], ranks: list[str], wanted: tuple[str, ...]
) -> list[CategoryMiss]:
    """Leaders (cadres of `ranks`) without exactly one active household of each wanted category."""
    leaders = {load.cadre_id: load for load in loads if load.rank in ranks}
    counts: dict[int, dict[str, int]] = {cid: dict.fromkeys(wanted, 0) for cid in leaders}
    ids = sorted(leaders)
    for start in range(0, len(ids), 2000):
        stmt = (
            select(
                pairings.c.cadre_id,
                households.c.category,
                households.c.tags,
                households.c.party_member,
            )
            .join(households, households.c.id == pairings.c.household_id)
            .where(
                pairings.c.cadre_id.in_(ids[start : start + 2000]),
                pairings.c.active.is_(True),
                households.c.status == "active",
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
