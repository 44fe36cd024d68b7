"""The one place that knows SQLite from PostgreSQL (no dialect SQL elsewhere)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, DateTime, text

if TYPE_CHECKING:
    from sqlalchemy import Table

    from storage.core_db import Executor


def insert_ignore(session: Executor, table: Table, index_elements: list[str]) -> Any:
    """INSERT … ON CONFLICT (index_elements) DO NOTHING for the session's database."""
    return insert_ignore_for(is_postgres(session), table, index_elements)


def insert_ignore_for(postgres: bool, table: Table, index_elements: list[str]) -> Any:
    """`insert_ignore` for PostgreSQL or SQLite, chosen by the caller."""
    # Each dialect module is imported when first used: an admin command on SQLite does not
    # pay for the PostgreSQL dialect (and asyncpg's) at start-up.
    if postgres:
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing(index_elements=index_elements)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing(index_elements=index_elements)


def is_postgres(session: Executor) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def skip_locked(session: Executor, stmt: Any) -> Any:
    """SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite locks the whole file anyway."""
    return stmt.with_for_update(skip_locked=True) if is_postgres(session) else stmt


async def try_advisory_xact_lock(session: Executor, key: int) -> bool:
    """pg_try_advisory_xact_lock(key, <this deployment>), held until the transaction ends.

    Advisory locks are server-wide, so the second half of the two-part key names the
    deployment: the database and the schema first in the search path. Two deployments on
    one PostgreSQL server (or two test runs in their own schemas) never block each other.
    SQLite has one writer at a time and no advisory locks: always True there.
    """
    if not is_postgres(session):
        return True
    result = await session.execute(
        text(
            "SELECT pg_try_advisory_xact_lock("
            "CAST(:k AS integer), hashtext(current_database() || '.' || current_schema()))"
        ),
        {"k": _int4(key)},
    )
    return bool(result.scalar())


def _int4(key: int) -> int:
    """A 32-bit unsigned key as PostgreSQL's signed integer."""
    key &= 0xFFFFFFFF
    return key - (1 << 32) if key >= 1 << 31 else key


async def refresh_statistics(session: Executor, tables: list[str]) -> None:
    """After a bulk load, let PostgreSQL's planner see the new rows (else it may scan).

    SQLite picks indexes without statistics, so there is nothing to do there.
    """
    if is_postgres(session):
        names = ", ".join(f'"{name}"' for name in tables)
        await session.execute(text(f"ANALYZE {names}"))


async def insert_many_ignore(
    session: Executor,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    index_elements: list[str],
) -> int:
    """`insert_ignore` of many rows without SQLAlchemy's per-value work (most of a large
    insert's time); how many were inserted.

    PostgreSQL gets 5,000 rows a statement as one JSON text (json_to_recordset), SQLite the
    driver's own executemany. Every row has the keys of the first; the columns' types
    convert the values, each distinct date or time once.
    """
    return int(await _insert_many(session, table, rows, index_elements, None))  # type: ignore[arg-type]


async def insert_many_ignore_returning(
    session: Executor,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    index_elements: list[str],
    column: str,
) -> list[Any]:
    """`insert_many_ignore`, giving `column` of each row inserted (on SQLite through
    multi-row VALUES: executemany returns no rows)."""
    return await _insert_many(session, table, rows, index_elements, column)  # type: ignore[return-value]


async def _insert_many(
    session: Executor,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    index_elements: list[str],
    returning: str | None,
) -> list[Any] | int:
    if not rows:
        return [] if returning is not None else 0
    names = list(rows[0])
    dialect = session.get_bind().dialect
    cols = ", ".join(f'"{n}"' for n in names)
    tail = f" ON CONFLICT ({', '.join(index_elements)}) DO NOTHING"
    if returning is not None:
        tail += f' RETURNING "{returning}"'
    if is_postgres(session):
        return await _pg_insert_many(session, table, rows, names, cols, tail, returning)
    values = _sqlite_values(table, rows, names, dialect)
    conn = await session.connection()
    if returning is None:
        sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join("?" * len(names))}){tail}'
        result = await conn.exec_driver_sql(sql, values)  # type: ignore[arg-type]
        return int(result.rowcount)
    out: list[Any] = []
    step = _SQLITE_PARAMS // len(names)
    one = f"({', '.join('?' * len(names))})"
    for start in range(0, len(values), step):
        part = values[start : start + step]
        sql = f'INSERT INTO "{table.name}" ({cols}) VALUES {", ".join([one] * len(part))}{tail}'
        flat = tuple(v for row in part for v in row)
        out += (await conn.exec_driver_sql(sql, flat)).scalars().all()
    return out


_SQLITE_PARAMS = 8000  # bound values a statement holds (SQLite 3.32+ allows 32,766)
_PG_ROWS = 5000


def _sqlite_values(
    table: Table, rows: Sequence[Mapping[str, Any]], names: list[str], dialect: Any
) -> list[tuple[Any, ...]]:
    """Rows as the driver's tuples, through each column's bind processor (a sweep's rows
    share a few dates and times: each converted once)."""
    cols = [(n, _converter(table.c[n].type, dialect)) for n in names]
    return [tuple([r[n] if f is None else f(r[n]) for n, f in cols]) for r in rows]


def _converter(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The column type's bind processor (None: values go as they are), remembering what it
    made of each date or time."""
    proc = column_type._cached_bind_processor(dialect)
    if proc is None:
        return None
    if not issubclass(getattr(column_type, "impl", column_type)._type_affinity, Date | DateTime):

        def convert(value: Any) -> Any:
            return None if value is None else proc(value)

        return convert
    made: dict[Any, Any] = {None: None}

    def remember(value: Any) -> Any:
        if value not in made:
            made[value] = proc(value)
        return made[value]

    return remember


async def _pg_insert_many(
    session: Executor,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    names: list[str],
    cols: str,
    tail: str,
    returning: str | None,
) -> list[Any] | int:
    dialect = session.get_bind().dialect
    fields = ", ".join(f'"{n}" {table.c[n].type.compile(dialect)}' for n in names)
    sql = text(
        f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} '
        f"FROM json_to_recordset(CAST(:rows AS json)) AS r({fields}){tail}"
    )
    out: list[Any] = []
    count = 0
    for start in range(0, len(rows), _PG_ROWS):
        part = [{n: _pg_json(r[n]) for n in names} for r in rows[start : start + _PG_ROWS]]
        result = await session.execute(sql, {"rows": json.dumps(part)})
        if returning is not None:
            out += result.scalars().all()
        else:
            count += int(result.rowcount)  # type: ignore[attr-defined]
    return out if returning is not None else count


def _pg_json(value: Any) -> Any:
    """A value as json_to_recordset reads it into its column's type."""
    return value.isoformat() if isinstance(value, datetime | date) else value


async def hold_write_lock(session: Executor, key: int, table: str) -> None:
    """Wait until no other transaction holds `key`, and hold it until this one ends: on
    PostgreSQL pg_advisory_xact_lock(key, <this deployment>); on SQLite the database's one
    write lock, which a write to `table` that changes nothing takes (what this transaction
    reads next is then what it may write on)."""
    if is_postgres(session):
        await session.execute(
            text(
                "SELECT pg_advisory_xact_lock("
                "CAST(:k AS integer), hashtext(current_database() || '.' || current_schema()))"
            ),
            {"k": _int4(key)},
        )
    else:
        await session.execute(text(f'DELETE FROM "{table}" WHERE 0'))
