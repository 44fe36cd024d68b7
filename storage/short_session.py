"""Short transactions without an ORM `Session` until one is needed.

An update's short transaction runs a handful of prebuilt Core statements
(`storage.core_db.execute_core`). Through an `AsyncSession` it also paid for the session's
set-up, a pool checkout, SQLAlchemy's `Connection` and transaction objects, and greenlet
hops for begin, commit and close — as much Python as the statements themselves.

`ShortSession` runs the prebuilt statements on the driver's connection directly
(storage/compiled.py) and commits with a plain driver call:

- SQLite file: the short transactions' engine holds one connection (`StaticPool`: the
  single writer needs no more), used in place (storage/sqlite_inline.py). Short
  transactions queue on a lock of their own, as they share it (callers hold the single
  writer's lock anyway).
- PostgreSQL: a connection of the short transactions' pool, checked out for the
  transaction (one greenlet hop) and checked in with its COMMIT (one more); asyncpg's
  transaction begins with the first statement, as through SQLAlchemy. A connection found
  dead is invalidated and the error says so (`storage.db.is_stale_connection`), so the
  caller may run the transaction again on a fresh one.

Anything else asked of it (`execute`, `add`, `scalar`, `info`, …) is answered by a real
`AsyncSession` made on first use, on the same connection and so in the same transaction
(SQLAlchemy's begin sends nothing on either driver), which then commits or rolls back the
whole of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util.concurrency import greenlet_spawn

from storage.sqlite_inline import InlineConnection


def as_dbapi_error(
    engine: AsyncEngine, err: Exception, sql: str, values: Any, *, invalidated: bool = False
) -> DBAPIError:
    """A driver's error wrapped as SQLAlchemy's own execute wraps it."""
    dialect = engine.dialect
    wrapped = DBAPIError.instance(
        sql,
        values,
        err,
        dialect.loaded_dbapi.Error,
        hide_parameters=engine.sync_engine.hide_parameters,
        dialect=dialect,
        connection_invalidated=invalidated,
    )
    assert isinstance(wrapped, DBAPIError)
    return wrapped


class ShortSession:
    """One short transaction on a driver connection (see the module's docstring)."""

    def __init__(self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession]) -> None:
        self.engine = engine
        self._factory = factory
        self._session: AsyncSession | None = None

    # -- what the prebuilt statements use (storage/compiled.py) ---------------------------

    async def run(self, sql: str, values: tuple[Any, ...]) -> tuple[Sequence[Any], Any]:
        """Run one statement on the driver's connection: (rows, the cursor's description)."""
        raise NotImplementedError

    def get_bind(self) -> Any:
        """The engine (its dialect), as `AsyncSession.get_bind()`, without a session."""
        return self.engine.sync_engine

    # -- everything else: a real session on the same connection ---------------------------

    @property
    def session(self) -> AsyncSession:
        """The ORM session of this transaction, made on first use."""
        if self._session is None:
            self._session = self._make_session()
        return self._session

    def _make_session(self) -> AsyncSession:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def _event(self, name: str) -> None:
        sync = self.engine.sync_engine
        if sync._has_events:  # the round-trip counters of the tests and the benchmark
            getattr(sync.dispatch, name)(None)


S = TypeVar("S", bound=ShortSession)


@asynccontextmanager
async def settled(short: S) -> AsyncIterator[S]:
    """`short` for the caller's statements: committed on success, rolled back on error,
    closed in any case."""
    try:
        yield short
        await short.commit()
    except BaseException:
        await short.rollback()
        raise
    finally:
        await short.close()


class SqliteShort(ShortSession):
    """On SQLite's one held connection."""

    def __init__(
        self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession], conn: InlineConnection
    ) -> None:
        super().__init__(engine, factory)
        self.inline = conn

    async def run(self, sql: str, values: tuple[Any, ...]) -> tuple[Sequence[Any], Any]:
        return await self.inline.fetch(sql, values)

    def _make_session(self) -> AsyncSession:
        return self._factory()  # the pool's one connection: this one

    async def commit(self) -> None:
        # The session commits what it wrote (and, on the same connection, what was run
        # directly); what it did not touch the connection for is committed here.
        if self._session is not None:
            await self._session.commit()
        if self.inline.in_transaction:
            await self.inline.commit()
            self._event("commit")

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()
        if self.inline.in_transaction:
            await self.inline.rollback()
            self._event("rollback")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class HeldConnection:
    """SQLite: the one connection of the short transactions, and the lock they queue on."""

    def __init__(self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession]) -> None:
        self.engine = engine
        self.factory = factory
        self._lock = asyncio.Lock()
        self._conn: InlineConnection | None = None

    async def _connection(self) -> InlineConnection:
        conn = self._conn
        if conn is None or conn._connection is None:  # first use, or closed by the pool
            async with self.engine.connect() as outer:
                raw = await outer.get_raw_connection()
                driver = raw.driver_connection
            assert isinstance(driver, InlineConnection)
            conn = self._conn = driver
        return conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteShort]:
        """One short transaction: committed on success, rolled back on error."""
        async with self._lock:
            short = SqliteShort(self.engine, self.factory, await self._connection())
            async with settled(short):
                yield short


class PgShort(ShortSession):
    """On a connection of the short transactions' PostgreSQL pool, checked out for it."""

    def __init__(
        self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession], fairy: Any
    ) -> None:
        super().__init__(engine, factory)
        self.fairy = fairy  # the pool's proxy of the connection
        self.adapted = fairy.dbapi_connection  # SQLAlchemy's asyncpg adapter
        self._outer: AsyncConnection | None = None

    async def run(self, sql: str, values: tuple[Any, ...]) -> tuple[Sequence[Any], Any]:
        cursor = self.adapted.cursor()  # prepared (cached), in the transaction it begins
        try:
            await cursor._prepare_and_execute(sql, values)
        except self.engine.dialect.loaded_dbapi.Error as err:
            raise await self._wrapped(err, sql, values) from err
        return cursor._rows, cursor.description

    async def _wrapped(self, err: Any, sql: str, values: Any) -> DBAPIError:
        """As SQLAlchemy's own execute: wrapped, and a dead connection invalidated."""
        dead = self.engine.dialect.is_disconnect(err, self.adapted, None)
        if dead:
            await greenlet_spawn(self.fairy.invalidate, err)
        return as_dbapi_error(self.engine, err, sql, values, invalidated=dead)

    def _make_session(self) -> AsyncSession:
        # A Connection over the checked-out connection: closing it checks it back in.
        sync = Connection(self.engine.sync_engine, connection=self.fairy)
        self._outer = AsyncConnection(self.engine, sync)
        return self._factory(bind=self._outer)

    async def commit(self) -> None:
        # The session commits what it wrote (and, on the same connection, what was run
        # directly); a transaction it did not touch the connection for is committed here.
        if self._session is not None:
            await self._session.commit()
        adapted = self.adapted
        if adapted._transaction is not None:
            try:
                await adapted._call_and_discard(adapted._transaction.commit)
            except Exception as err:
                try:
                    adapted._handle_exception(err)  # asyncpg's error as the DBAPI's
                except self.engine.dialect.loaded_dbapi.Error as translated:
                    raise await self._wrapped(translated, "COMMIT", ()) from err
                raise
            self._event("commit")

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()
        if self.fairy.is_valid and self.adapted._transaction is not None:
            await greenlet_spawn(self.adapted.rollback)
            self._event("rollback")

    async def close(self) -> None:
        """The connection back to the pool (the session's Connection does it, if made)."""
        if self._session is not None:
            await self._session.close()
        if self._outer is not None:
            await self._outer.close()
        else:
            await greenlet_spawn(self.fairy.close)


class PgShortTransactions:
    """PostgreSQL: short transactions on the short transactions' pool."""

    def __init__(self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession]) -> None:
        self.engine = engine
        self.factory = factory

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgShort]:
        """One short transaction: committed on success, rolled back on error."""
        fairy = await greenlet_spawn(self.engine.sync_engine.raw_connection)
        async with settled(PgShort(self.engine, self.factory, fairy)) as short:
            yield short
