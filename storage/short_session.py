"""SQLite's short transactions without an ORM `Session` until one is needed.

An update's short transaction runs a handful of prebuilt Core statements
(`storage.db.execute_core`). Through an `AsyncSession` it also paid for the session's
set-up, a pool checkout, SQLAlchemy's `Connection` and transaction objects, and greenlet
hops for begin, commit and close — as much Python as the statements themselves.

On a SQLite file the short transactions' engine holds one connection (`StaticPool`: the
single writer needs no more) and `ShortSession` runs the prebuilt statements on its sqlite3
connection directly (storage/compiled.py), committing with a plain driver call. Anything
else asked of it (`execute`, `add`, `scalar`, `info`, …) is answered by a real
`AsyncSession` made on first use, on the same connection and so in the same transaction
(sqlite3 begins it at the first write; SQLAlchemy's begin on SQLite sends nothing), which
then commits or rolls back the whole of it.

One short transaction at a time: they queue on a lock of their own (callers hold the
single writer's lock anyway), since they all share the one connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.sqlite_inline import InlineConnection


class ShortSession:
    """A short transaction on the held SQLite connection (see the module's docstring)."""

    def __init__(
        self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession], conn: InlineConnection
    ) -> None:
        self.engine = engine
        self.inline = conn
        self._factory = factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The ORM session of this transaction, made on first use."""
        if self._session is None:
            self._session = self._factory()
        return self._session

    @property
    def has_session(self) -> bool:
        return self._session is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def get_bind(self) -> Any:
        """The engine (its dialect), as `AsyncSession.get_bind()`, without a session."""
        return self.engine.sync_engine

    async def _commit(self) -> None:
        # The session commits what it wrote (and, on the same connection, what was run
        # directly); what it did not touch the connection for is committed here.
        if self._session is not None:
            await self._session.commit()
        if self.inline.in_transaction:
            await self.inline.commit()
            sync = self.engine.sync_engine
            if sync._has_events:
                sync.dispatch.commit(None)

    async def _rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()
        if self.inline.in_transaction:
            await self.inline.rollback()
            sync = self.engine.sync_engine
            if sync._has_events:
                sync.dispatch.rollback(None)

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()


class HeldConnection:
    """The one connection of SQLite's short transactions, and the lock they queue on."""

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
    async def transaction(self) -> AsyncIterator[ShortSession]:
        """One short transaction: committed on success, rolled back on error."""
        async with self._lock:
            short = ShortSession(self.engine, self.factory, await self._connection())
            try:
                yield short
                await short._commit()
            except BaseException:
                await short._rollback()
                raise
            finally:
                await short._close()
