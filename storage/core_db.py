"""A database without the ORM: SQLAlchemy Core connections, for the admin commands.

The bot and the web console open `storage.db.Database` (async engines and ORM sessions). An
admin command runs a few statements and exits, and importing the ORM (with the asyncio
extension, whose package imports its session) was a good part of its start: `CoreDatabase`
opens a plain `Engine` on the same async driver (aiosqlite, asyncpg) and runs each statement
through SQLAlchemy's greenlet bridge, as the asyncio extension itself does, without it.

The storage functions that admin commands share with the bot take an `Executor`: the bot
passes its `AsyncSession`, an admin command a `CoreConnection`; both run the same Core
statements on the tables of `storage.tables`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.util.concurrency import greenlet_spawn

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult, Dialect, Result, Row, ScalarResult
    from sqlalchemy.sql import Executable
    from sqlalchemy.util.typing import TupleAny

SQLITE_BUSY_TIMEOUT_MS = 10_000
T = TypeVar("T")


class Executor(Protocol):
    """What the shared storage functions run their statements on: an `AsyncSession` (the
    bot) or a `CoreConnection` (admin commands)."""

    async def execute(self, statement: Executable, params: Any = None, /) -> Result[*TupleAny]: ...

    async def scalar(self, statement: Executable, params: Any = None, /) -> Any: ...

    async def stream(self, statement: Executable, params: Any = None, /) -> Any: ...

    async def connection(self) -> Any: ...

    def get_bind(self) -> Any: ...


def normalize_url(url: str) -> str:
    """Accept plain sqlite:// and postgresql:// URLs and pick the async drivers."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


def is_sqlite(url_or_engine: Any) -> bool:
    """A URL, or an engine (sync or async), of SQLite."""
    if not isinstance(url_or_engine, str):
        return bool(url_or_engine.dialect.name == "sqlite")
    return make_url(url_or_engine).get_backend_name() == "sqlite"


DIGEST_FUNCTION = "bangfu_claim_digest"


def lines_digest(keys: str) -> str:
    """What names a reminder claim of newline-joined duty keys, in any order: the first 12
    hex digits of the SHA-256 of the keys sorted (PostgreSQL computes it in SQL too)."""
    return hashlib.sha256("\n".join(sorted(keys.split("\n"))).encode()).hexdigest()[:12]


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    # The reminder sweep's claims, named in SQL (storage.sweep_sql).
    dbapi_conn.create_function(DIGEST_FUNCTION, 1, lines_digest, deterministic=True)


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


def engine_options(url: str, schema: str | None, kw: dict[str, Any]) -> dict[str, Any]:
    """The engine's options for `url` (normalised), on either kind of engine: parameters kept
    out of logs and error texts unless `hide_parameters=False` is passed; SQLite's file
    made owner-only; PostgreSQL's search_path set to `schema` (used by tests)."""
    kw = dict(kw)
    kw.setdefault("hide_parameters", True)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            create_private_file(path)
        kw.setdefault("connect_args", {"timeout": 30})
        return kw
    if schema:
        kw.setdefault("connect_args", {"server_settings": {"search_path": schema}})
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 10)
    kw.setdefault("pool_pre_ping", True)
    return kw


class CoreConnection:
    """One connection of a `CoreDatabase`, its statements awaited like an `AsyncSession`'s."""

    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection

    async def execute(
        self, statement: Executable, params: Any = None, /
    ) -> CursorResult[*TupleAny]:
        return await greenlet_spawn(self.sync_connection.execute, statement, params)

    async def exec_driver_sql(self, sql: str, params: Any = None, /) -> Any:
        return await greenlet_spawn(self.sync_connection.exec_driver_sql, sql, params)

    def get_bind(self) -> Connection:
        return self.sync_connection

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    async def get_raw_connection(self) -> Any:
        """The pooled DBAPI connection (its `driver_connection` is aiosqlite's or asyncpg's)."""
        return self.sync_connection.connection

    async def stream(self, statement: Executable, params: Any = None, /) -> CoreStream:
        """A result read in parts from a server-side cursor (as `AsyncSession.stream`); the
        statement's `yield_per` execution option is the size of a part."""
        size = int(statement.get_execution_options().get("yield_per") or 1000)
        result = await greenlet_spawn(
            functools.partial(
                self.sync_connection.execute,
                statement,
                params,
                execution_options={"stream_results": True},
            )
        )
        return CoreStream(result, size)

    async def scalar(self, statement: Executable, params: Any = None, /) -> Any:
        return await greenlet_spawn(self.sync_connection.scalar, statement, params)

    async def scalars(self, statement: Executable, params: Any = None, /) -> ScalarResult[Any]:
        return (await self.execute(statement, params)).scalars()

    async def connection(self) -> CoreConnection:
        """Itself (an `AsyncSession` gives its connection here: see `execute_core`)."""
        return self

    async def commit(self) -> None:
        await greenlet_spawn(self.sync_connection.commit)

    async def rollback(self) -> None:
        await greenlet_spawn(self.sync_connection.rollback)

    async def begin(self) -> None:
        """Begin the transaction now (it would begin with the first statement anyway)."""
        await greenlet_spawn(self.sync_connection.begin)

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(sync_connection, *args)`, as `AsyncConnection.run_sync`."""
        return await greenlet_spawn(fn, self.sync_connection, *args)


class CoreStream:
    """The rows of a streamed result, fetched a part at a time through the greenlet bridge."""

    def __init__(self, result: CursorResult[*TupleAny], size: int) -> None:
        self._result = result
        self._size = size

    async def partitions(self) -> AsyncIterator[Sequence[Row[*TupleAny]]]:
        try:
            while part := await greenlet_spawn(self._result.fetchmany, self._size):
                yield part
        finally:
            await greenlet_spawn(self._result.close)


async def execute_core(session: Any, statement: Any, params: dict[str, Any]) -> Any:
    """Run a prebuilt Core statement in the session's transaction: its rows (`first()`,
    `scalar_one_or_none()`, iteration).

    On the bot's `AsyncSession` (the statements every update runs, each built once):
    compiled once per dialect and run on the driver's connection (storage/compiled.py),
    without the ORM's or the Core's per-statement work; a `CoreConnection` (an admin
    command) runs it as it is.
    """
    if isinstance(session, CoreConnection):
        return await session.execute(statement, params)
    from storage import compiled  # the bot's sessions: the asyncio extension is loaded already

    return await compiled.execute(session, statement, params)


class OneWriter:
    """`writer()` of a database whose `dialect` property names its kind."""

    _writers: asyncio.Lock | None = None

    @property
    def dialect(self) -> str:
        raise NotImplementedError

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


class CoreDatabase(OneWriter):
    """An engine of Core connections, opened from a URL (see the module's docstring)."""

    def __init__(self, url: str, *, schema: str | None = None, **engine_kw: Any) -> None:
        self.url = normalize_url(url)
        self.schema = schema
        self.engine: Engine = create_engine(self.url, **engine_options(self.url, schema, engine_kw))
        if is_sqlite(self.url):
            event.listen(self.engine, "connect", sqlite_pragmas)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def sessions(self) -> AsyncIterator[CoreConnection]:
        """A connection whose transaction begins at its first statement and ends with its
        `commit()`; what is not committed is rolled back when it closes."""
        sync = await greenlet_spawn(self.engine.connect)
        try:
            yield CoreConnection(sync)
        finally:
            await greenlet_spawn(sync.close)

    def connect(self) -> Any:
        """A connection of its own, outside any transaction helper (as `Database.connect`)."""
        return self.sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[CoreConnection]:
        """One connection, one transaction: committed on success, rolled back on error."""
        async with self.sessions() as conn:
            await greenlet_spawn(conn.sync_connection.begin)
            try:
                yield conn
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()

    async def dispose(self) -> None:
        await greenlet_spawn(self.engine.dispose)
