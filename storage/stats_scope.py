"""The scope of a unit's figures: active pairings whose household or cadre is in its subtree."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    Column,
    FromClause,
    Index,
    MetaData,
    Select,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cadre, Contact, Event, Household, Pairing, Problem, Unit
from storage.models._base import BigId
from storage.models.household import HOUSEHOLD_EXITED
from storage.tables.contact import DUTY_KINDS as DUTY_KINDS  # re-exported: its old home
from storage.unit_paths import in_subtree


@dataclass(frozen=True)
class Window:
    """The days a digest looks at, all inclusive, in the county's calendar."""

    today: date  # "as of": the last day counted
    period_start: date  # the digest's period (last 7 days, or the reviewed month)
    contact_since: date  # start of the current contact-duty period (the month)
    visit_since: date  # start of the current visit-duty period (the quarter)
    period_start_at: datetime  # period_start 00:00 local, aware (for timestamps)
    period_end_at: datetime  # the day after `today` 00:00 local, aware


def resolved_in(w: Window) -> Any:
    """A problem resolved within the period."""
    p = Problem
    return and_(
        p.status == "resolved", p.resolved_at >= w.period_start_at, p.resolved_at < w.period_end_at
    )


def problem_counts(w: Window) -> list[Any]:
    """Three summed columns over `Problem`: raised in the period, resolved in it, open now."""
    p = Problem

    def n(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    return [
        n(and_(p.raised_on >= w.period_start, p.raised_on <= w.today)),
        n(resolved_in(w)),
        n(p.status == "open"),
    ]


def problem_count_ranges(w: Window, *where: Any) -> Select:  # type: ignore[type-arg]
    """problem_counts' three figures as three counts (for SQLite): each an index range of
    the problems `where` selects — the open problems' from the index alone — instead of
    one pass that reads every such problem's row."""
    p = Problem

    def count(*cond: Any) -> Any:
        return select(func.count()).where(*where, *cond).scalar_subquery()

    return select(
        count(p.raised_on >= w.period_start), count(resolved_in(w)), count(p.status == "open")
    )


SCOPE_COLUMNS = ["cadre_id", "household_id", "village_id", "cadre_unit_id"]
_temp_names = itertools.count(1)


def scope_select(path: str, today: date) -> Select:  # type: ignore[type-arg]
    """Active pairings in the subtree: (cadre_id, household_id, village_id, cadre_unit_id).

    Below a root the pairings are found through the subtree's villages and its cadres (two
    index look-ups, merged), not by reading every pairing of the county.
    """
    sub = select(Unit.id).where(in_subtree(Unit.path, path)).scalar_subquery()
    stmt = (
        select(
            Pairing.cadre_id,
            Pairing.household_id,
            Household.village_id,
            Cadre.unit_id.label("cadre_unit_id"),
        )
        .join(Household, Household.id == Pairing.household_id)
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .where(
            Pairing.active.is_(True),
            Cadre.active.is_(True),
            Household.status != HOUSEHOLD_EXITED,  # as the reminders: no more duties
            Pairing.start_date <= today,
            or_(Pairing.end_date.is_(None), Pairing.end_date >= today),
            or_(Household.village_id.in_(sub), Cadre.unit_id.in_(sub)),
        )
    )
    if "/" not in path:
        return stmt
    via_village = (
        select(Pairing.id)
        .join(Household, Household.id == Pairing.household_id)
        .where(Household.village_id.in_(sub), Pairing.active.is_(True))
    )
    via_cadre = (
        select(Pairing.id)
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .where(Cadre.unit_id.in_(sub), Pairing.active.is_(True))
    )
    found = union(via_village, via_cadre).subquery("found")
    return stmt.join(found, found.c.id == Pairing.id)


def scope(path: str, today: date) -> CTE:
    """The scope as a CTE, for one-query uses."""
    return scope_select(path, today).cte("scope")


@asynccontextmanager
async def materialized(
    session: AsyncSession,
    columns: list[str],
    stmt: Select[Any] | list[dict[str, int]],
    *,
    analyze: bool = True,
    key: str | None = None,
    indexes: tuple[str, ...] = (),
    name: str | None = None,
) -> AsyncIterator[Table]:
    """`stmt`'s rows (integer columns; or the rows given) in an analyzed temporary table,
    dropped afterwards; `key`, when given, is its primary key (one row each); each of
    `indexes` a column indexed once the rows are in.

    A digest asks a dozen questions of the same scope; computing it once and giving the
    planner its real size keeps a county-wide digest to seconds on both databases.

    `name`: a fixed name for a table made again and again (the weekly job's one per group);
    the same Table object is then reused, so SQLAlchemy compiles the statements that read it
    once, not once per group. Never nest two tables of one name.
    """
    table = _table(name or f"digest_tmp_{next(_temp_names)}", tuple(columns), key)
    await session.run_sync(lambda s: table.create(s.connection()))
    try:
        if isinstance(stmt, list):
            if stmt:
                await session.execute(insert(table), stmt)
        else:
            await session.execute(insert(table).from_select(columns, stmt))
        for column in indexes:
            await session.run_sync(_create_index, Index(f"{table.name}_{column}", table.c[column]))
        if analyze:
            await session.execute(text(f"ANALYZE {table.name}"))
        yield table
    finally:
        # If the transaction failed, rolling it back removes the table anyway.
        with suppress(DBAPIError):
            await session.run_sync(lambda s: table.drop(s.connection()))


_named_tables: dict[tuple[str, tuple[str, ...], str | None], Table] = {}


def _table(name: str, columns: tuple[str, ...], key: str | None) -> Table:
    cached = _named_tables.get((name, columns, key))
    if cached is not None:
        return cached
    table = Table(
        name,
        MetaData(),
        # The key as SQLite's INTEGER PRIMARY KEY: the rowid itself, so a look-up by key is
        # one b-tree search instead of an index search and then the row's.
        *[
            Column(c, BigId if c == key else BigInteger, primary_key=c == key, autoincrement=False)
            for c in columns
        ],
        prefixes=["TEMPORARY"],
    )
    if not name.startswith("digest_tmp_"):
        _named_tables[(name, columns, key)] = table
    return table


def _create_index(sync_session: Any, index: Index) -> None:
    index.create(sync_session.connection())


def open_events(households: FromClause, today: date) -> Select[Any]:
    """Events of `households` (distinct household_id rows) with no home visit to the household
    on or after the event's date. Joined, not IN: the planner then starts from the few
    households in scope instead of hashing every visit."""
    visited = exists().where(
        Contact.household_id == Event.household_id,
        Contact.kind == "visit",
        Contact.deleted_at.is_(None),
        Contact.occurred_on >= Event.occurred_on,
        Contact.occurred_on <= today,
    )
    return (
        select(Event)
        .join(households, households.c.household_id == Event.household_id)
        .where(Event.deleted_at.is_(None), Event.occurred_on <= today, ~visited)
    )
