"""Helpers for set-based writes: fixed-size batches and created/updated tallies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import bindparam, update

if TYPE_CHECKING:
    from sqlalchemy import Table

    from storage.core_db import Executor

CHUNK = 500  # keys per IN (...) list and rows per batch: well under SQLite's variable limit

T = TypeVar("T")


def chunks(seq: Sequence[T], size: int = CHUNK) -> Iterable[list[T]]:
    for start in range(0, len(seq), size):
        yield list(seq[start : start + size])


@dataclass
class Tally:
    """What a batch upsert did with each distinct record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


async def update_by_id(session: Executor, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update rows of `table` by their `id`, each to its own values, in one executemany (as
    the ORM's bulk UPDATE of dicts by primary key). Every row has the same keys."""
    if not rows:
        return
    stmt = update(table).where(table.c.id == bindparam("_id"))
    names = [k for k in rows[0] if k != "id"]
    await session.execute(stmt, [{"_id": r["id"], **{n: r[n] for n in names}} for r in rows])
