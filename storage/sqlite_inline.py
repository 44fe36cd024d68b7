"""A SQLite driver connection for SQLAlchemy's aiosqlite dialect that runs on the event loop.

aiosqlite runs every statement in a worker thread: one thread hop there and one back per
statement. An update's short transaction (5-7 statements of well under a millisecond
each) then spends most of its time waiting for the hops, and under CPU load each hop
waits up to the interpreter's GIL switch interval (5 ms) — while the transaction holds
SQLite's single write lock, so every other update waits too.

`InlineConnection` has aiosqlite's connection and cursor interface (what SQLAlchemy's
adapter calls) but runs each statement directly. Meant only for short statements: a
statement blocks the loop while it runs. It never blocks on another writer: the busy
timeout is 0 and a busy database is retried after an asynchronous sleep, up to the
same deadline as the threaded connections' busy timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

RETRY_FIRST = 0.001
RETRY_MAX = 0.05


def _busy(err: sqlite3.OperationalError) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == sqlite3.SQLITE_BUSY)
    return "locked" in str(err)


class InlineCursor:
    """aiosqlite.Cursor's interface over a sqlite3 cursor, run in place."""

    def __init__(self, conn: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._conn = conn
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        await self._conn._run(self._cursor.execute, sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        rows = list(parameters)  # a retry must see the same rows again
        await self._conn._run(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if size is None:
            return self._cursor.fetchmany()
        return self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Immediate:
    """Stands in for aiosqlite's request queue (SQLAlchemy's isolation-level setter uses it)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as err:
            future.set_exception(err)


class InlineConnection:
    """aiosqlite.Connection's interface over a sqlite3 connection, run in place."""

    def __init__(self, conn: sqlite3.Connection, busy_seconds: float) -> None:
        self._connection: sqlite3.Connection | None = conn
        self._conn = conn
        self._tx = _Immediate()
        self.busy_seconds = busy_seconds

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        deadline = time.monotonic() + self.busy_seconds
        pause = RETRY_FIRST
        while True:
            try:
                return fn(*args)
            except sqlite3.OperationalError as err:
                if not _busy(err) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)  # another connection writes: let it, meanwhile
            pause = min(pause * 2, RETRY_MAX)

    async def fetch(self, sql: str, parameters: Any) -> tuple[list[Any], Any]:
        """Run one statement and fetch its rows: (rows, the cursor's description)."""
        cursor = await self._run(self._conn.execute, sql, parameters)
        return cursor.fetchall(), cursor.description

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        await self._run(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


def inline_creator(path: str, busy_seconds: float) -> Callable[[], Any]:
    """SQLAlchemy's `async_creator` for `path`: a new InlineConnection, busy timeout 0."""

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(path, check_same_thread=False)
        return InlineConnection(conn, busy_seconds)

    return connect
