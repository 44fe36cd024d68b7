"""The hot path's statements run on the driver's connection, compiled once.

Every update runs the same few Core statements (storage/conversations.py, people.py,
records.py, audit.py: `storage.core_db.execute_core`). Through SQLAlchemy each execution costs
more Python than the statement itself on SQLite: the compiled cache lookup, an execution
context, `construct_params`, the bind processors looked up again, a cursor result and its
metadata, and a greenlet hop around the driver call. Here each statement is compiled once
per dialect into its SQL, its parameters in positional order with their bind processors,
and its result columns' processors; an execution builds the parameter tuple, runs it on
the driver's connection of the session's transaction and returns plain tuples.

The same transaction: the statements run on the very connection SQLAlchemy checked out for
the session (`session.connection()`), which commits or rolls them back with the rest.
What stays SQLAlchemy's: cursor events are still dispatched (the round-trip counters of
the tests and the benchmark see every statement), and a driver error is handled by the
connection exactly as its own `execute` would (wrapped in `sqlalchemy.exc.DBAPIError`,
a dead connection invalidated: `storage.db.is_stale_connection`).

Drivers: the in-place SQLite connection (storage/sqlite_inline.py) runs sqlite3 directly;
aiosqlite and asyncpg go through SQLAlchemy's own async adapter cursor (asyncpg: its
prepared statement cache, its transaction start), awaited directly instead of through a
greenlet. A statement whose compiled form needs more than positional binds (expanding
IN lists, Python-side defaults other than constants) runs through SQLAlchemy as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.util.concurrency import greenlet_spawn

from storage.short_session import ShortSession, as_dbapi_error
from storage.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any] | None
_MISSING = object()


class Rows(list[tuple[Any, ...]]):
    """A statement's rows, all fetched: the few `Result` methods the hot path uses."""

    def first(self) -> tuple[Any, ...] | None:
        return self[0] if self else None

    def scalar_one_or_none(self) -> Any:
        if len(self) > 1:
            raise ValueError("more than one row")
        return self[0][0] if self else None


class Compiled:
    """One statement compiled for one dialect: SQL, parameter order, processors."""

    __slots__ = ("binds", "fast", "result_types", "results", "sql")

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.results: tuple[Processor, ...] | None = None  # known after the first run
        self.result_types = [entry[3] for entry in compiled._result_columns]
        processors = compiled._bind_processors
        self.binds: tuple[tuple[str, Any, Processor], ...] = ()
        # Columns the statement does not set that have a constant Python-side default
        # (Column(default="")): SQLAlchemy passes the constant; so does this.
        defaults: dict[str, Any] = {}
        constant = True
        for column in compiled.insert_prefetch:
            default = column.default
            if default is None or not default.is_scalar:
                constant = False
                break
            defaults[column.key] = default.arg
        self.fast = bool(
            compiled.positional
            and constant
            and not compiled.update_prefetch
            and not compiled.post_compile_params
            and not compiled.literal_execute_params
            and not getattr(compiled, "_render_postcompile", False)
        )
        if not self.fast:
            return
        binds = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.expanding:
                self.fast = False
                return
            if defaults and bind.key in defaults:
                default = defaults[bind.key]
            else:
                default = _MISSING if bind.required else bind.effective_value
            binds.append((bind.key, default, processors.get(name)))
        self.binds = tuple(binds)

    def parameters(self, params: dict[str, Any]) -> tuple[Any, ...]:
        values = []
        for key, default, process in self.binds:
            value = params.get(key, default)
            if value is _MISSING:
                raise KeyError(f"a value is required for bind parameter {key!r}")
            values.append(value if process is None else process(value))
        return tuple(values)

    def rows(self, raw: Sequence[Any], description: Any, dialect: Dialect) -> Rows:
        results = self.results
        if results is None:
            if description is not None and len(description) != len(self.result_types):
                raise RuntimeError(f"result columns differ from the statement's: {self.sql}")
            results = self.results = tuple(
                t._cached_result_processor(dialect, d[1])
                for t, d in zip(self.result_types, description or (), strict=False)
            )
        if not any(results):
            return Rows(tuple(r) for r in raw)
        return Rows(
            tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True))
            for row in raw
        )


# Compiled forms by (statement, dialect name): statements are built once (module level or
# functools.cache), so this holds a handful; the statement is kept to keep its id unique.
_compiled: dict[tuple[int, str], tuple[Any, Compiled]] = {}


def compiled_for(statement: Any, dialect: Dialect) -> Compiled:
    key = (id(statement), dialect.name)
    got = _compiled.get(key)
    if got is None:
        got = _compiled[key] = (statement, Compiled(statement, dialect))
    return got[1]


class _Driver:
    """The driver connection of one session transaction, and how to run a statement on it."""

    __slots__ = ("adapted", "connection", "dialect", "inline", "outer", "transaction")

    def __init__(self, transaction: Any, outer: AsyncConnection) -> None:
        connection = outer.sync_connection
        assert connection is not None
        self.transaction = transaction
        self.outer = outer
        self.connection: Connection = connection
        self.dialect = connection.dialect
        fairy = connection.connection
        driver = fairy.driver_connection
        self.inline = driver if isinstance(driver, InlineConnection) else None
        self.adapted: Any = fairy.dbapi_connection

    async def run(self, sql: str, values: tuple[Any, ...]) -> tuple[Sequence[Any], Any]:
        if self.inline is not None:
            return await self.inline.fetch(sql, values)
        if self.dialect.name == "sqlite":  # aiosqlite, in its thread
            async with self.adapted._execute_mutex:
                cursor = await self.adapted._connection.execute(sql, values)
                try:
                    return await cursor.fetchall(), cursor.description
                finally:
                    await cursor.close()
        cursor = self.adapted.cursor()  # asyncpg's adapter: prepared, in the transaction
        await cursor._prepare_and_execute(sql, values)
        return cursor._rows, cursor.description


_KEY = "storage.compiled.driver"


async def _driver(session: AsyncSession) -> _Driver:
    transaction = session.sync_session.get_transaction()
    driver: _Driver | None = session.info.get(_KEY)
    if driver is None or driver.transaction is not transaction or transaction is None:
        outer = await session.connection()
        driver = _Driver(session.sync_session.get_transaction(), outer)
        session.info[_KEY] = driver
    return driver


async def execute(session: AsyncSession, statement: Any, params: dict[str, Any]) -> Rows | Any:
    """Run a Core statement built once on the session's connection, in its transaction.

    Its rows (all fetched), or SQLAlchemy's result for a statement that cannot take
    this path (see the module's docstring)."""
    if isinstance(session, ShortSession):
        return await _execute_held(session, statement, params)
    driver = await _driver(session)
    connection = driver.connection
    compiled = compiled_for(statement, driver.dialect)
    if not compiled.fast:
        return await driver.outer.execute(statement, params)
    sql, values = compiled.sql, compiled.parameters(params)
    if connection._has_events or connection.engine._has_events:
        connection.dispatch.before_cursor_execute(connection, None, sql, values, None, False)
    try:
        raw, description = await driver.run(sql, values)
    except Exception as err:
        # As SQLAlchemy's own execute: wrapped, and a dead connection invalidated.
        await greenlet_spawn(connection._handle_dbapi_exception, err, sql, values, None, None)
        raise
    return compiled.rows(raw, description, driver.dialect)


async def _execute_held(short: ShortSession, statement: Any, params: dict[str, Any]) -> Any:
    """On a short transaction's driver connection (storage/short_session.py): the
    engine's cursor events dispatched, a driver error wrapped as SQLAlchemy wraps it."""
    engine = short.engine.sync_engine
    dialect = engine.dialect
    compiled = compiled_for(statement, dialect)
    if not compiled.fast:
        return await short.session.execute(statement, params)
    sql, values = compiled.sql, compiled.parameters(params)
    if engine._has_events:
        engine.dispatch.before_cursor_execute(None, None, sql, values, None, False)
    try:
        raw, description = await short.run(sql, values)
    except DBAPIError:
        raise  # wrapped already (PostgreSQL: a dead connection invalidated too)
    except dialect.loaded_dbapi.Error as err:
        raise as_dbapi_error(short.engine, err, sql, values) from err
    return compiled.rows(raw, description, dialect)
