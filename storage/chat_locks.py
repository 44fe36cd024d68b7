"""One conversation in one process at a time, across every process on one PostgreSQL.

Several `bangfu run` processes behind one address may each receive an update of the same
chat (Telegram posts to whichever the proxy picks; a redelivery may land on another one).
`ConversationLocks.hold(key)` holds a session-level PostgreSQL advisory lock for the
conversation while its update is handled and its answers go out, so a second process waits
for the first to finish, draft, answers and all, before it handles the next one.

Within one process a chat's updates already go one at a time (the channel's own per-chat
lock), so the process needs each conversation's lock only once, held by any one of its
sessions. One session holds them all: every lock and unlock asked for meanwhile goes out
together in one statement on one dedicated connection (`pg_try_advisory_lock`, which never
waits, and `pg_advisory_unlock`), so a hundred chats at once cost a round trip or two
between them instead of a pooled connection, its ping, a lock and an unlock each. An unlock
is queued, not waited for: the next lock of the same chat in this process goes after it on
the same connection, and another process gets the lock once it has gone out. A lock
another process holds is waited for as before, with `pg_advisory_lock` on a connection of
its own from a small pool, so that the shared connection never waits for anything.

If the shared connection dies, its locks go with its session: the statement in flight is
run once more on a fresh connection (the locks it asked for were not granted, or are gone)
and the conversations being handled meanwhile have lost their locks (logged). The 64-bit
key space (one bigint) is distinct from the two-part keys of the scheduler's job locks; its
upper half names the deployment (database and schema), so two deployments on one server
never share a lock. On SQLite (one process only) holding is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database, create_engine

log = logging.getLogger(__name__)

DEFAULT_POOL = 10

_KEY_OF = (
    "(hashtext(current_database() || '.' || current_schema())::bigint << 32)"
    " | (hashtext({k})::bigint & 4294967295)"
)
_KEY = _KEY_OF.format(k=":k")
_LOCK = text(f"SELECT pg_advisory_lock({_KEY})")
_UNLOCK = text(f"SELECT pg_advisory_unlock({_KEY})")
# Locks and unlocks together, one row each in the order asked (an unlock for `u` true).
_BATCH = f"""SELECT x.i, CASE WHEN x.u THEN pg_advisory_unlock({_KEY_OF.format(k="x.k")})
    ELSE pg_try_advisory_lock({_KEY_OF.format(k="x.k")}) END
  FROM unnest($1::text[], $2::bool[]) WITH ORDINALITY AS x(k, u, i) ORDER BY x.i"""

_Ask = tuple[str, "asyncio.Future[bool] | None"]  # (key, the lock's answer; None: unlock)


class ConversationLocks:
    """Cross-process conversation locks on `db`'s PostgreSQL; no-ops on SQLite."""

    def __init__(self, db: Database, size: int = DEFAULT_POOL) -> None:
        self.enabled = db.dialect == "postgresql"
        self._db = db
        self._engine = (
            create_engine(
                db.url,
                schema=db.schema,
                # The shared connection, and waits for locks other processes hold.
                pool_size=max(2, size),
                max_overflow=0,
                pool_timeout=3600,
                # Each statement stands alone, no BEGIN/COMMIT around it.
                isolation_level="AUTOCOMMIT",
            )
            if self.enabled
            else None
        )
        self._asks: list[_Ask] = []
        self._sender: asyncio.Task[None] | None = None
        self._shared: AsyncConnection | None = None
        self._raw: Any = None  # the shared connection's asyncpg connection

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Held while the body runs; waits (holding nothing of the main pool) for another."""
        if self._engine is None:
            yield
            return
        if await self._try_lock(key):
            try:
                yield
            finally:
                self._ask(key, None)
            return
        async with self._waited(key):  # another process has it
            yield

    async def _try_lock(self, key: str) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._ask(key, answer)
        try:
            return await asyncio.shield(answer)
        except asyncio.CancelledError:
            # Given up: a lock granted after all is let go at once.
            answer.add_done_callback(functools.partial(self._let_go, key))
            raise

    def _let_go(self, key: str, answer: asyncio.Future[bool]) -> None:
        if not answer.cancelled() and answer.exception() is None and answer.result():
            self._ask(key, None)

    def _ask(self, key: str, answer: asyncio.Future[bool] | None) -> None:
        self._asks.append((key, answer))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_asks())

    async def _send_asks(self) -> None:
        """Send what was asked meanwhile, one statement at a time, until nothing is left."""
        while self._asks:
            asks, self._asks = self._asks, []
            try:
                await self._send(asks)
            except Exception as exc:
                for _key, answer in asks:
                    if answer is not None and not answer.done():
                        answer.set_exception(exc)

    async def _send(self, asks: list[_Ask]) -> None:
        for attempt in (1, 2):
            try:
                raw = await self._connection()
                self._db.driver_round_trips += 1
                rows = await raw.fetch(_BATCH, [k for k, _a in asks], [a is None for _k, a in asks])
                break
            except Exception:
                # The session, and every lock it held, is gone (or unknown: dropped).
                await self._drop()
                if attempt == 2:
                    raise
                log.warning("conversation locks: shared connection lost; locks held were freed")
                asks = [(k, a) for k, a in asks if a is not None]  # unlocks: done with it
                if not asks:
                    return
        for (_key, answer), row in zip(asks, rows, strict=True):
            if answer is not None and not answer.done():
                answer.set_result(bool(row[1]))

    async def _connection(self) -> Any:
        if self._raw is None or self._raw.is_closed():
            await self._drop()
            assert self._engine is not None
            self._shared = await self._engine.connect()
            raw = await self._shared.get_raw_connection()
            self._raw = raw.driver_connection
        return self._raw

    async def _drop(self) -> None:
        shared, self._shared, self._raw = self._shared, None, None
        if shared is not None:
            with contextlib.suppress(Exception):
                await shared.invalidate()
            with contextlib.suppress(Exception):
                await shared.close()

    def backend_pid(self) -> int | None:
        """The shared connection's server process (tests cut it to prove the retry)."""
        raw = self._raw
        return None if raw is None or raw.is_closed() else int(raw.get_server_pid())

    @contextlib.asynccontextmanager
    async def _waited(self, key: str) -> AsyncIterator[None]:
        assert self._engine is not None
        async with self._engine.connect() as conn:
            await conn.execute(_LOCK, {"k": key})  # the session's lock, no transaction
            try:
                yield
            finally:
                try:
                    await asyncio.shield(self._unlock(conn, key))
                except BaseException:
                    # Unknown whether it was released: drop the connection, and the lock
                    # with the session, rather than hand a locked session back to the pool.
                    log.warning("conversation lock: could not release; connection dropped")
                    await conn.invalidate()
                    raise

    async def _unlock(self, conn: AsyncConnection, key: str) -> None:
        await conn.execute(_UNLOCK, {"k": key})

    async def close(self) -> None:
        """Send the unlocks still queued, then close every connection."""
        if self._engine is None:
            return
        if self._sender is not None:
            with contextlib.suppress(Exception):
                await self._sender
        await self._drop()
        await self._engine.dispose()
