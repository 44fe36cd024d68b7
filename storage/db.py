"""Engine and session set-up for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import compiled
from storage.sqlite_inline import inline_creator

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalize_url(url: str) -> str:
    """Accept plain sqlite:// and postgresql:// URLs and pick the async drivers."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    if isinstance(url_or_engine, AsyncEngine):
        return url_or_engine.dialect.name == "sqlite"
    return make_url(url_or_engine).get_backend_name() == "sqlite"


DIGEST_FUNCTION = "bangfu_claim_digest"


def lines_digest(keys: str) -> str:
    """What names a reminder claim of newline-joined duty keys, in any order: the first 12
    hex digits of the SHA-256 of the keys sorted (PostgreSQL computes it in SQL too)."""
    return hashlib.sha256("\n".join(sorted(keys.split("\n"))).encode()).hexdigest()[:12]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    # The reminder sweep's claims, named in SQL (storage.sweep_sql).
    dbapi_conn.create_function(DIGEST_FUNCTION, 1, lines_digest, deterministic=True)


def _no_busy_wait(dbapi_conn: Any, _record: Any) -> None:
    # Inline connections (storage/sqlite_inline.py) wait for a busy database themselves,
    # asynchronously; SQLite's busy handler would sleep on the event loop.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=0")
    cur.close()


def sqlite_path(url: str) -> str | None:
    """The file behind a SQLite URL; None for other databases and in-memory ones."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    path = u.database or ""
    if path in ("", ":memory:") or path.startswith("file:"):
        return None
    return path


def create_private_file(path: str) -> None:
    """Create `path` owner-only (0600) if it does not exist; an existing file is left as is.

    SQLite would create the database world-readable (0644 under the usual umask), and it
    gives its -wal and -shm files the database file's permissions.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        return  # exists already, or cannot be created: SQLite says why when it connects
    os.close(fd)


def create_engine(url: str, *, schema: str | None = None, **kw: Any) -> AsyncEngine:
    """An async engine; `schema` (PostgreSQL only) sets the search_path, used by tests.

    SQL parameters are kept out of log messages and error texts (they hold cadres' names,
    phone numbers and messages) unless `hide_parameters=False` is passed.
    """
    url = normalize_url(url)
    kw.setdefault("hide_parameters", True)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            create_private_file(path)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kw)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 10)
    kw.setdefault("pool_pre_ping", True)
    return create_async_engine(url, connect_args=connect_args, **kw)


def create_inline_engine(url: str, path: str, **kw: Any) -> AsyncEngine:
    """A SQLite engine whose statements run on the event loop (storage/sqlite_inline.py)."""
    kw.setdefault("hide_parameters", True)
    creator = inline_creator(path, SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_async_engine(normalize_url(url), async_creator=creator, **kw)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "connect", _no_busy_wait)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session, one transaction: committed on success, rolled back on error."""
    async with factory() as session, session.begin():
        yield session


async def execute_core(session: AsyncSession, statement: Any, params: dict[str, Any]) -> Any:
    """Run a Core statement on the session's connection, in its transaction: its rows.

    For the statements every update runs, each built once (module level or
    functools.cache): compiled once per dialect and run on the driver's connection
    (storage/compiled.py), without the ORM's or the Core's per-statement work. The rows
    come back fetched (`first()`, `scalar_one_or_none()`, iteration).
    """
    return await compiled.execute(session, statement, params)


def is_stale_connection(err: BaseException) -> bool:
    """A transaction failed because its pooled connection was dead (now discarded)."""
    return isinstance(err, DBAPIError) and bool(err.connection_invalidated)


class Database:
    """An engine and its session factory, opened from a URL."""

    def __init__(self, url: str, *, schema: str | None = None, **engine_kw: Any) -> None:
        self.url = normalize_url(url)
        self.schema = schema
        self.engine = create_engine(self.url, schema=schema, **engine_kw)
        self.sessions = session_factory(self.engine)
        self._writers: asyncio.Lock | None = None
        self._short: async_sessionmaker[AsyncSession] | None = None
        self.short_engine = self.engine  # until short_transaction() opens its own
        # Statements sent on a driver connection directly, which SQLAlchemy's events do not
        # see (the conversation locks' batches): for the benchmarks' round-trip count.
        self.driver_round_trips = 0

    def writer(self) -> Any:
        """Held around a write transaction that many tasks may open at once.

        SQLite has one writer: a hundred concurrent transactions would only queue in its
        busy handler (and time out under load), so they queue here, in order. PostgreSQL
        takes them in parallel: nothing to hold.
        """
        if self.dialect != "sqlite":
            return contextlib.nullcontext()
        if self._writers is None:
            self._writers = asyncio.Lock()
        return self._writers

    def short_transaction(self) -> Any:
        """A transaction of a few short statements, such as one update's.

        On a SQLite file its statements run on the event loop instead of a worker thread
        (no thread hops while it holds the write lock): not for long reads, they would
        hold up the loop. On PostgreSQL its connections are not pinged before use: the
        first transaction on a connection that died (a server restart) fails with
        `is_stale_connection(err)` true, and may simply be run again.
        """
        return transaction(self._short_sessions())

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
                self.short_engine = create_inline_engine(self.url, path)
            self._short = session_factory(self.short_engine)
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

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.short_engine is not self.engine:
            await self.short_engine.dispose()
