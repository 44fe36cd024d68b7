"""One conversation in one process at a time, across every process on one PostgreSQL.

Several `bangfu run` processes behind one address may each receive an update of the same
chat (Telegram posts to whichever the proxy picks; a redelivery may land on another one).
`ConversationLocks.hold(key)` holds a session-level PostgreSQL advisory lock for the
conversation while its update is handled and its answers go out, so a second process waits
for the first to finish, draft, answers and all, before it handles the next one.

The locks live on their own small pool (`size` connections): a holder never needs a second
connection from it, and the handling transaction takes its connection from the main pool,
so the two can never wait for each other. The 64-bit key space (one bigint) is distinct
from the two-part keys of the scheduler's job locks; its upper half names the deployment
(database and schema), so two deployments on one server never share a lock. On SQLite (one
process only) holding is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text

from storage.db import Database, create_engine

log = logging.getLogger(__name__)

DEFAULT_POOL = 10

_KEY = (
    "(hashtext(current_database() || '.' || current_schema())::bigint << 32)"
    " | (hashtext(:k)::bigint & 4294967295)"
)
_LOCK = text(f"SELECT pg_advisory_lock({_KEY})")
_UNLOCK = text(f"SELECT pg_advisory_unlock({_KEY})")


class ConversationLocks:
    """Cross-process conversation locks on `db`'s PostgreSQL; no-ops on SQLite."""

    def __init__(self, db: Database, size: int = DEFAULT_POOL) -> None:
        self.enabled = db.dialect == "postgresql"
        self._engine = (
            create_engine(
                db.url,
                schema=db.schema,
                pool_size=size,
                max_overflow=0,
                pool_timeout=3600,
                # Each lock and unlock is one statement, no BEGIN/COMMIT around it.
                isolation_level="AUTOCOMMIT",
            )
            if self.enabled
            else None
        )

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Held while the body runs; waits (holding nothing of the main pool) for another."""
        if self._engine is None:
            yield
            return
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

    async def _unlock(self, conn: object, key: str) -> None:
        await conn.execute(_UNLOCK, {"k": key})  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
