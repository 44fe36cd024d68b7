"""The cross-process conversation lock (PostgreSQL) after its pooled connection died.

A connection the server dropped (a restart, a proxy) is found before the lock is taken
(the lock pool pings each connection before use), so the cadre's next message is handled
on a fresh connection, not refused. (Without the ping the lock took one round trip less an
update but, in the inbound benchmark, twice the p99: see docs/benchmarks.md.)
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage.chat_locks import ConversationLocks
from storage.db import Database

KEY = "telegram:chat:1"


async def _held_elsewhere(db: Database, key: str) -> bool:
    """True when another session holds the conversation's lock (tried from a new one)."""
    async with db.engine.connect() as conn:
        got = await conn.scalar(
            text(
                "SELECT pg_try_advisory_lock((hashtext(current_database() || '.' ||"
                " current_schema())::bigint << 32) | (hashtext(:k)::bigint & 4294967295))"
            ),
            {"k": key},
        )
        if got:
            await conn.execute(text("SELECT pg_advisory_unlock_all()"))
        return not got


async def test_a_lock_whose_connection_died_is_taken_on_a_fresh_one(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("advisory locks: PostgreSQL")
    locks = ConversationLocks(db, size=1)
    try:
        async with locks.hold(KEY):  # the pool's one connection, kept for the next hold
            assert await _held_elsewhere(db, KEY)
        assert locks._engine is not None
        async with locks._engine.connect() as conn:
            pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        async with db.engine.begin() as conn:  # the server drops it
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        async with locks.hold(KEY):
            assert await _held_elsewhere(db, KEY)  # held for real, on a new connection
        assert not await _held_elsewhere(db, KEY)  # and released
    finally:
        await locks.close()
