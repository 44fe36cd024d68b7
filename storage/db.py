"""Engine and session set-up for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from storage.core_db import (
    DIGEST_FUNCTION,
    SQLITE_BUSY_TIMEOUT_MS,
    OneWriter,
    create_private_file,
    engine_options,
    is_sqlite,
    lines_digest,
    normalize_url,
    sqlite_path,
    sqlite_pragmas,
)
from storage.short_session import HeldConnection, PgShortTransactions
from storage.sqlite_inline import inline_creator

__all__ = [
    "DIGEST_FUNCTION",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Database",
    "create_engine",
    "create_inline_engine",
    "create_private_file",
    "is_sqlite",
    "is_stale_connection",
    "lines_digest",
    "normalize_url",
    "session_factory",
    "sqlite_path",
    "transaction",
]


def _no_busy_wait(dbapi_conn: Any, _record: Any) -> None:
    # Inline connections (storage/sqlite_inline.py) wait for a busy database themselves,
    # asynchronously; SQLite's busy handler would sleep on the event loop.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=0")
    cur.close()


def create_engine(url: str, *, schema: str | None = None, **kw: Any) -> AsyncEngine:
    """An async engine; `schema` (PostgreSQL only) sets the search_path, used by tests.

    SQL parameters are kept out of log messages and error texts (they hold cadres' names,
    phone numbers and messages) unless `hide_parameters=False` is passed.
    """
    url = normalize_url(url)
    engine = create_async_engine(url, **engine_options(url, schema, kw))
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    return engine


def create_inline_engine(url: str, path: str, **kw: Any) -> AsyncEngine:
    """A SQLite engine whose statements run on the event loop (storage/sqlite_inline.py)."""
    kw.setdefault("hide_parameters", True)
    creator = inline_creator(path, SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_async_engine(normalize_url(url), async_creator=creator, **kw)
    event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    event.listen(engine.sync_engine, "connect", _no_busy_wait)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session, one transaction: committed on success, rolled back on error."""
    async with factory() as session, session.begin():
        yield session


def is_stale_connection(err: BaseException) -> bool:
    """A transaction failed because its pooled connection was dead (now discarded)."""
    return isinstance(err, DBAPIError) and bool(err.connection_invalidated)


class Database(OneWriter):
    """An engine and its session factory, opened from a URL."""

    def __init__(self, url: str, *, schema: str | None = None, **engine_kw: Any) -> None:
        self.url = normalize_url(url)
        self.schema = schema
        self.engine = create_engine(self.url, schema=schema, **engine_kw)
        self.sessions = session_factory(self.engine)
        self._short: async_sessionmaker[AsyncSession] | None = None
        # The short transactions without an ORM session (storage/short_session.py).
        self._held: HeldConnection | PgShortTransactions | None = None
        self.short_engine = self.engine  # until short_transaction() opens its own
        # Statements sent on a driver connection directly, which SQLAlchemy's events do not
        # see (the conversation locks' batches): for the benchmarks' round-trip count.
        self.driver_round_trips = 0

    def short_transaction(self) -> Any:
        """A transaction of a few short statements, such as one update's.

        On a SQLite file its statements run on the event loop instead of a worker thread
        (no thread hops while it holds the write lock): not for long reads, they would
        hold up the loop, and on one connection held for them all. On PostgreSQL its
        connections are not pinged before use: the first transaction on a connection that
        died (a server restart) fails with `is_stale_connection(err)` true, and may simply
        be run again. On both (a SQLite file, PostgreSQL) it is a `ShortSession`: the
        prebuilt statements and the COMMIT on the driver's connection, an ORM session only
        if something asks for one (storage/short_session.py).
        """
        factory = self._short_sessions()
        if self._held is not None:
            return self._held.transaction()
        return transaction(factory)

    def _short_sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._short is None:
            path = sqlite_path(self.url)
            if self.dialect == "postgresql":
                # No ping before each transaction (three round trips on asyncpg: BEGIN, ;,
                # ROLLBACK); a connection found dead fails its transaction, which the
                # caller may run again (`is_stale_connection`).
                self.short_engine = create_engine(
                    self.url, schema=self.schema, pool_pre_ping=False, max_overflow=0
                )
            elif path is not None:
                # One connection: SQLite has one writer, and they queue for it anyway.
                self.short_engine = create_inline_engine(self.url, path, poolclass=StaticPool)
            self._short = session_factory(self.short_engine)
            if self.dialect == "postgresql":
                self._held = PgShortTransactions(self.short_engine, self._short)
            elif path is not None:
                self._held = HeldConnection(self.short_engine, self._short)
        return self._short

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """PostgreSQL: a connection of the short transactions' pool whose statements each
        commit on their own, for a statement that stands alone: one round trip instead of
        BEGIN, the statement and COMMIT. Not pinged, like the short transactions."""
        assert self.dialect == "postgresql"
        self._short_sessions()
        async with self.short_engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    def engines(self) -> list[AsyncEngine]:
        """Every engine this database opens (the short transactions' one made now)."""
        self._short_sessions()
        return list(dict.fromkeys([self.engine, self.short_engine]))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def transaction(self) -> Any:
        return transaction(self.sessions)

    def connect(self) -> Any:
        """A connection of its own (`AsyncConnection`), outside the sessions."""
        return self.engine.connect()

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.short_engine is not self.engine:
            await self.short_engine.dispose()
