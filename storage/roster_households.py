"""Household upsert for roster imports: matched by 户编号, else by village + head + phone."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, insert, select, update

from storage.batch import Tally, chunks, update_by_id
from storage.core_db import Executor
from storage.tables import households, pairings
from storage.tables.household import HOUSEHOLD_EXITED

if TYPE_CHECKING:
    from storage.roster_journal import Journal

FIELDS = (
    "code",
    "head_name",
    "village_id",
    "category",
    "members",
    "poverty_cause",
    "phone",
    "party_member",
    "birth_date",
    "party_date",
    "tags",
    "poverty_status",
    "status_date",
)
_COLUMNS = [households.c.id, *(households.c[f] for f in FIELDS)]


@dataclass(frozen=True, slots=True)
class HouseholdIn:
    code: str | None
    head_name: str
    village_id: int
    category: str
    members: int
    poverty_cause: str
    phone: str
    party_member: bool = False
    birth_date: date | None = None
    party_date: date | None = None
    tags: tuple[str, ...] = ()
    poverty_status: str | None = None  # None: keep what the household has
    status_date: date | None = None


async def _by_code(
    session: Executor, wanted: Mapping[Hashable, HouseholdIn]
) -> dict[Hashable, Row[Any]]:
    by_code = {h.code: key for key, h in wanted.items() if h.code}
    found: dict[Hashable, Row[Any]] = {}
    for part in chunks(list(by_code)):
        for row in await session.execute(select(*_COLUMNS).where(households.c.code.in_(part))):
            found[by_code[row.code]] = row
    return found


async def _by_name(
    session: Executor, rest: Mapping[Hashable, HouseholdIn], claimed: set[int]
) -> dict[Hashable, Row[Any]]:
    """Match households without a known code on (village, head, phone), oldest first.

    A row with a 户编号 may only adopt a household that has none yet (codes are added later).
    """
    index: dict[tuple[int, str, str], list[Row[Any]]] = {}
    villages = sorted({h.village_id for h in rest.values()})
    for part in chunks(villages):
        stmt = select(*_COLUMNS).where(households.c.village_id.in_(part)).order_by(households.c.id)
        for row in await session.execute(stmt):
            index.setdefault((row.village_id, row.head_name, row.phone), []).append(row)
    found: dict[Hashable, Row[Any]] = {}
    for key, h in rest.items():
        for row in index.get((h.village_id, h.head_name, h.phone), []):
            if row.id not in claimed and (h.code is None or row.code is None):
                found[key] = row
                claimed.add(row.id)
                break
    return found


def _desired(h: HouseholdIn, row: Row[Any] | None) -> dict[str, Any]:
    values = asdict(h)
    values["tags"] = list(h.tags)
    if row is not None and h.poverty_status is None:
        # A roster without 户状态 never erases one set earlier (by a file or the CLI).
        values["poverty_status"], values["status_date"] = row.poverty_status, row.status_date
    if row is not None and h.code is None:
        values["code"] = row.code  # a roster without codes never erases one
    return values


def _stored(row: Row[Any], name: str) -> Any:
    """A stored value as `_desired` builds it (an old row's tags may be NULL)."""
    value = getattr(row, name)
    return (value or []) if name == "tags" else value


async def upsert_households(
    session: Executor,
    wanted: Mapping[Hashable, HouseholdIn],
    *,
    now: datetime,
    tally: Tally,
    journal: Journal | None = None,
) -> dict[Hashable, int]:
    """Household ids by the caller's key; new ones inserted, changed ones updated."""
    found = await _by_code(session, wanted)
    claimed = {row.id for row in found.values()}
    rest = {k: h for k, h in wanted.items() if k not in found}
    found |= await _by_name(session, rest, claimed)
    ids = {key: row.id for key, row in found.items()}
    changes = []
    old: dict[int, dict[str, Any]] = {}
    for key, row in found.items():
        values = _desired(wanted[key], row)
        if any(_stored(row, f) != values[f] for f in FIELDS):
            changes.append({"id": row.id, **values})
            old[row.id] = {"id": row.id, **{f: getattr(row, f) for f in FIELDS}}
    for batch in chunks(changes):
        await update_by_id(session, households, batch)
        if journal is not None:
            await journal.wrote(households, old=[old[c["id"]] for c in batch])
    new_keys = [k for k in wanted if k not in found]
    stmt = insert(households).returning(households.c.id, sort_by_parameter_order=True)
    for new_part in chunks(new_keys):
        rows = [
            _desired(wanted[k], None) | {"status": "active", "created_at": now} for k in new_part
        ]
        result = await session.execute(stmt, rows)
        made = result.scalars().all()
        ids.update(zip(new_part, made, strict=True))
        if journal is not None:
            await journal.wrote(households, created=list(made))
    tally.created += len(new_keys)
    tally.updated += len(changes)
    tally.unchanged += len(found) - len(changes)
    return ids


async def exit_households(session: Executor, exits: Mapping[int, date]) -> None:
    """Households a roster marks 退出: exited, their pairings ended on the status day."""
    for part in chunks(sorted(exits)):
        rows = await session.execute(
            select(pairings.c.id, pairings.c.household_id).where(
                pairings.c.household_id.in_(part), pairings.c.active.is_(True)
            )
        )
        ends = [
            {"id": pid, "active": False, "end_date": exits[hid], "end_reason": "户退出"}
            for pid, hid in rows
        ]
        for batch in chunks(ends):
            await update_by_id(session, pairings, batch)
        await session.execute(
            update(households).where(households.c.id.in_(part)).values(status=HOUSEHOLD_EXITED)
        )
