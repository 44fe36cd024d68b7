"""Roster writes: units, cadres, households and pairings upserted set-based, in batches.

Callers validate first (bot/roster/check.py); this module trusts its rows. Every query works
on chunks of keys so a 50,000-row roster costs a few hundred statements, not 50,000.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select

from storage.batch import Tally, chunks, update_by_id
from storage.core_db import Executor
from storage.dialect import refresh_statistics
from storage.household_status import HOUSEHOLD_EXIT
from storage.roster_households import HouseholdIn, exit_households, upsert_households
from storage.roster_journal import Journal, _wrote
from storage.tables import cadres, pairings, units


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One validated roster line: this cadre is responsible for this household."""

    row: int  # the line in the source file, for messages
    unit_path: str
    cadre_name: str
    rank: str
    cadre_phone: str
    head_name: str
    household_code: str | None
    village_path: str
    category: str
    members: int
    poverty_cause: str
    household_phone: str
    party_member: bool = False
    birth_date: date | None = None
    party_date: date | None = None  # 入党日期
    tags: tuple[str, ...] = ()  # 类别, e.g. 困难学生、党员
    poverty_status: str | None = None  # 户状态: 脱贫 / 监测户 / 已消除风险 / 退出
    status_date: date | None = None

    @property
    def household_key(self) -> Hashable:
        """Who this household is: its 户编号, else village + head + phone."""
        if self.household_code:
            return ("code", self.household_code)
        return ("name", self.village_path, self.head_name, self.household_phone)


@dataclass
class ApplyCounts:
    units_created: int = 0
    cadres: Tally = field(default_factory=Tally)
    households: Tally = field(default_factory=Tally)
    pairings: Tally = field(default_factory=Tally)
    # What the file holds, by id: for a --replace import to end what it does not.
    cadre_ids: set[int] = field(default_factory=set)
    household_ids: set[int] = field(default_factory=set)
    pairs: set[tuple[int, int]] = field(default_factory=set)


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


async def ensure_units(
    session: Executor, paths: Iterable[str], journal: Journal | None = None
) -> tuple[dict[str, int], int]:
    """Ids of these unit paths, creating missing ones and their ancestors; and how many new."""
    wanted = sorted({p for path in paths for p in _prefixes(path)}, key=lambda p: p.count("/"))
    ids: dict[str, int] = {}
    for part in chunks(wanted):
        rows = await session.execute(select(units.c.path, units.c.id).where(units.c.path.in_(part)))
        ids.update({path: uid for path, uid in rows})
    created = 0
    missing = [p for p in wanted if p not in ids]
    for depth in sorted({p.count("/") for p in missing}):
        level = [p for p in missing if p.count("/") == depth]
        values = [
            {
                "parent_id": ids[p.rsplit("/", 1)[0]] if depth else None,
                "name": p.rsplit("/", 1)[-1],
                "path": p,
                "depth": depth,
            }
            for p in level
        ]
        for batch in chunks(values):
            result = await session.execute(insert(units).returning(units.c.path, units.c.id), batch)
            made: dict[str, int] = dict(result.all())
            ids.update(made)
            await _wrote(journal, units, created=list(made.values()))
        created += len(level)
    return ids, created


@dataclass(frozen=True, slots=True)
class CadreIn:
    phone: str
    name: str
    rank: str
    unit_id: int


async def upsert_cadres(
    session: Executor,
    wanted: Sequence[CadreIn],
    *,
    now: datetime,
    tally: Tally,
    journal: Journal | None = None,
) -> dict[str, int]:
    """Cadre ids by phone; new cadres inserted, changed or inactive ones updated."""
    ids: dict[str, int] = {}
    changes: list[dict[str, Any]] = []
    old: dict[int, dict[str, Any]] = {}
    by_phone = {c.phone: c for c in wanted}
    for part in chunks(list(by_phone)):
        rows = await session.execute(
            select(
                cadres.c.id,
                cadres.c.phone,
                cadres.c.name,
                cadres.c.rank,
                cadres.c.unit_id,
                cadres.c.active,
            ).where(cadres.c.phone.in_(part))
        )
        for cid, phone, name, rank, unit_id, active in rows:
            ids[phone] = cid
            c = by_phone[phone]
            if (name, rank, unit_id, active) != (c.name, c.rank, c.unit_id, True):
                old[cid] = {"id": cid, "name": name, "rank": rank, "unit_id": unit_id}
                old[cid]["active"] = active
                changes.append(
                    {
                        "id": cid,
                        "name": c.name,
                        "rank": c.rank,
                        "unit_id": c.unit_id,
                        "active": True,
                    }
                )
    for batch in chunks(changes):
        await update_by_id(session, cadres, batch)
        await _wrote(journal, cadres, old=[old[c["id"]] for c in batch])
    new = [
        {"name": c.name, "rank": c.rank, "unit_id": c.unit_id, "phone": c.phone}
        | {"role": "", "active": True, "created_at": now}
        for c in wanted
        if c.phone not in ids
    ]
    for batch in chunks(new):
        result = await session.execute(insert(cadres).returning(cadres.c.phone, cadres.c.id), batch)
        made: dict[str, int] = dict(result.all())
        ids.update(made)
        await _wrote(journal, cadres, created=list(made.values()))
    tally.created += len(new)
    tally.updated += len(changes)
    tally.unchanged += len(by_phone) - len(new) - len(changes)
    return ids


async def upsert_pairings(
    session: Executor,
    pairs: set[tuple[int, int]],
    *,
    start: date,
    tally: Tally,
    journal: Journal | None = None,
) -> None:
    """Pairings (cadre_id, household_id): new ones inserted, ended ones made active again."""
    existing: dict[tuple[int, int], tuple[int, bool]] = {}
    ended_on: dict[int, date | None] = {}
    households = sorted({h for _, h in pairs})
    for part in chunks(households):
        rows = await session.execute(
            select(
                pairings.c.cadre_id,
                pairings.c.household_id,
                pairings.c.id,
                pairings.c.active,
                pairings.c.end_date,
            ).where(pairings.c.household_id.in_(part))
        )
        for cid, hid, pid, active, end_date in rows:
            existing[(cid, hid)] = (pid, active)
            ended_on[pid] = end_date
    revive: list[dict[str, Any]] = [
        {"id": existing[p][0], "active": True, "end_date": None}
        for p in pairs
        if p in existing and not existing[p][1]
    ]
    for batch in chunks(revive):
        await update_by_id(session, pairings, batch)
        old = [{"id": r["id"], "active": False, "end_date": ended_on[r["id"]]} for r in batch]
        await _wrote(journal, pairings, old=old)
    new: list[dict[str, Any]] = [
        {"cadre_id": c, "household_id": h, "start_date": start, "active": True}
        for c, h in sorted(pairs)
        if (c, h) not in existing
    ]
    for batch in chunks(new):
        result = await session.execute(insert(pairings).returning(pairings.c.id), batch)
        await _wrote(journal, pairings, created=list(result.scalars().all()))
    tally.created += len(new)
    tally.updated += len(revive)
    tally.unchanged += len(pairs) - len(new) - len(revive)


BULK = 1000  # rows created, above which the planner's statistics are refreshed
Progress = Callable[[str, int, int], None]


async def apply_roster(
    session: Executor,
    rows: Sequence[RosterRow],
    *,
    now: datetime,
    progress: Progress | None = None,
    journal: Journal | None = None,
) -> ApplyCounts:
    """Write validated rows; re-applying changes nothing.

    Without a journal, all in the caller's transaction. With one, each batch is recorded
    there (and committed, when the journal has a `commit`), so a failure can be undone.
    """
    counts = ApplyCounts()
    note = progress or (lambda stage, done, total: None)
    unit_ids, counts.units_created = await ensure_units(
        session, [r.unit_path for r in rows] + [r.village_path for r in rows], journal
    )
    note("units", len(unit_ids), len(unit_ids))
    cadres_in = {
        r.cadre_phone: CadreIn(r.cadre_phone, r.cadre_name, r.rank, unit_ids[r.unit_path])
        for r in rows
    }
    cadre_ids = await upsert_cadres(
        session, list(cadres_in.values()), now=now, tally=counts.cadres, journal=journal
    )
    note("cadres", len(cadre_ids), len(cadres_in))
    households = {r.household_key: _household_in(r, unit_ids) for r in rows}
    household_ids = await upsert_households(
        session, households, now=now, tally=counts.households, journal=journal
    )
    note("households", len(household_ids), len(households))
    pairs = {(cadre_ids[r.cadre_phone], household_ids[r.household_key]) for r in rows}
    await upsert_pairings(session, pairs, start=now.date(), tally=counts.pairings, journal=journal)
    note("pairings", len(pairs), len(pairs))
    exits = {
        household_ids[r.household_key]: r.status_date or now.date()
        for r in rows
        if r.poverty_status == HOUSEHOLD_EXIT
    }
    await exit_households(session, exits)
    counts.cadre_ids = set(cadre_ids.values())
    counts.household_ids = set(household_ids.values())
    counts.pairs = pairs
    if counts.households.created + counts.pairings.created >= BULK:
        await refresh_statistics(session, ["units", "cadres", "households", "pairings"])
    return counts


def _household_in(r: RosterRow, unit_ids: dict[str, int]) -> HouseholdIn:
    return HouseholdIn(
        code=r.household_code,
        head_name=r.head_name,
        village_id=unit_ids[r.village_path],
        category=r.category,
        members=r.members,
        poverty_cause=r.poverty_cause,
        phone=r.household_phone,
        party_member=r.party_member,
        birth_date=r.birth_date,
        party_date=r.party_date,
        tags=r.tags,
        poverty_status=r.poverty_status,
        status_date=r.status_date,
    )
