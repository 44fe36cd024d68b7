"""The kept scope counts (migration 0016; SQL in storage/scope_sql.py) against the records.

`scope_drift` reads the five kept tables and recomputes them (from pairings, cadres,
households, units, chat accounts, `household_state` and `contact_months`; those two are
checked against the contacts by storage/contact_state.py); `repair_scope` rebuilds them
set-based when they differ. Used by `bangfu doctor` and by the tests after every step of a
random history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import cadre_scope_sql
from storage.scope_sql import (
    POSTGRES,
    SQLITE,
    UNIT_BRANCHES_SELECT,
    Dialect,
    backfill,
    cadre_months_recomputed,
    fresh_branches,
    fresh_scope,
    unit_days_recomputed,
)

TABLES = (
    "unit_days",
    "cadre_months",
    "cadre_scope",  # after cadre_months: emptying that puts no row back
    "household_branches",
    "household_scope",
    "unit_branches",
)


@dataclass(frozen=True, slots=True)
class ScopeDrift:
    table: str
    key: tuple[Any, ...]
    kept: tuple[Any, ...] | None  # None: no kept row (or a zero count)
    recomputed: tuple[Any, ...] | None  # None: none in the records


def _dialect(session: AsyncSession) -> Dialect:
    return POSTGRES if session.get_bind().dialect.name == "postgresql" else SQLITE


def _readings(d: Dialect) -> list[tuple[str, int, str, str]]:
    """(table, key columns, kept query, recomputed query); rows key first."""
    return [
        (
            "unit_branches",
            2,
            "SELECT unit_id, branch_id FROM unit_branches",
            UNIT_BRANCHES_SELECT,
        ),
        (
            "household_scope",
            1,
            """SELECT household_id, village_id, pairings, last_contact_on, last_visit_on
            FROM household_scope""",
            f"""SELECT s.household_id, s.village_id, s.pairings, t.last_contact_on,
              t.last_visit_on
            FROM {fresh_scope("(true)")} s
            LEFT JOIN household_state t ON t.household_id = s.household_id""",
        ),
        (
            "household_branches",
            2,
            "SELECT household_id, unit_id, pairings FROM household_branches",
            f"SELECT household_id, unit_id, pairings FROM {fresh_branches('(true)')} b",
        ),
        (
            "cadre_months",
            2,
            "SELECT cadre_id, month, pairs FROM cadre_months WHERE pairs <> 0",
            cadre_months_recomputed(d),
        ),
        (
            "cadre_scope",
            1,
            "SELECT cadre_id, pairs, month, in_month, reach FROM cadre_scope",
            f"""WITH fresh_months (cadre_id, month, pairs) AS ({cadre_months_recomputed(d)})
            {cadre_scope_sql.rows_from("fresh_months")}""",
        ),
        (
            "unit_days",
            4,
            "SELECT unit_id, src, kind, day, n FROM unit_days WHERE n <> 0",
            unit_days_recomputed(d, fresh=True),
        ),
    ]


def _keyed(rows: Any, width: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    out = {}
    for r in rows:
        row = tuple(int(v) if isinstance(v, bool) else v for v in r)
        out[row[:width]] = tuple(str(v) if v is not None else None for v in row[width:])
    return out


async def scope_drift(session: AsyncSession) -> list[ScopeDrift]:
    """Every kept row that differs from the records, table by table, in key order."""
    found: list[ScopeDrift] = []
    for table, width, kept_sql, true_sql in _readings(_dialect(session)):
        kept = _keyed(await session.execute(text(kept_sql)), width)
        true = _keyed(await session.execute(text(true_sql)), width)
        for k in sorted(kept.keys() | true.keys(), key=lambda k: tuple(map(str, k))):
            if kept.get(k) != true.get(k):
                found.append(ScopeDrift(table, k, kept.get(k), true.get(k)))
    return found


async def repair_scope(session: AsyncSession) -> int:
    """Rebuild the five tables from the records when any drifted; returns how many rows
    had drifted. Set-based, like the migrations' backfills (`cadre_scope` filled again
    after its triggers have followed `cadre_months` being filled)."""
    found = await scope_drift(session)
    if found:
        for table in TABLES:
            await session.execute(text(f"DELETE FROM {table}"))
        for sql in backfill(_dialect(session)):
            await session.execute(text(sql))
        await session.execute(text("DELETE FROM cadre_scope"))
        await session.execute(text(cadre_scope_sql.BACKFILL))
    return len(found)
