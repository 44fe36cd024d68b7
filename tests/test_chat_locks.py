"""The cross-process conversation lock (PostgreSQL): one shared session, and after it died.

One process's locks are all held by one session, asked for together. A lock another
process holds is waited for, on a connection of its own, until that process lets it go.
A shared connection the server dropped (a restart, a proxy) is replaced when the next
statement fails, which is run once more on a fresh one, so the cadre's next message is
handled, not refused.
"""

from __future__ import annotations

import asyncio

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
        async with locks.hold(KEY):  # on the shared connection, kept for the next hold
            assert await _held_elsewhere(db, KEY)
        pid = locks.backend_pid()
        assert pid is not None
        async with db.engine.begin() as conn:  # the server drops it
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        async with locks.hold(KEY):
            assert await _held_elsewhere(db, KEY)  # held for real, on a new connection
            assert locks.backend_pid() not in (None, pid)
        await locks.close()  # the queued unlock goes out
        assert not await _held_elsewhere(db, KEY)  # and released
    finally:
        await locks.close()


async def test_many_conversations_share_one_session_and_release_all(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("advisory locks: PostgreSQL")
    locks = ConversationLocks(db, size=1)
    keys = [f"telegram:chat:{n}" for n in range(50)]
    inside = asyncio.Event()
    held = 0

    async def one(key: str) -> None:
        nonlocal held
        async with locks.hold(key):
            held += 1
            if held == len(keys):
                inside.set()
            await inside.wait()  # every conversation held at the same moment

    try:
        before = db.driver_round_trips
        await asyncio.gather(*(one(k) for k in keys))
        assert db.driver_round_trips - before <= 2  # asked for together, not one by one
        await locks.close()
        assert not any([await _held_elsewhere(db, k) for k in keys])
    finally:
        await locks.close()


async def test_a_lock_held_by_another_process_is_waited_for(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("advisory locks: PostgreSQL")
    first, second = ConversationLocks(db, size=2), ConversationLocks(db, size=2)
    order: list[str] = []
    try:
        async with first.hold(KEY):
            waiting = asyncio.create_task(_note(second, order))
            await asyncio.sleep(0.2)  # the other one asked and waits
            assert order == []
            order.append("first done")
        await asyncio.wait_for(waiting, 5)
        assert order == ["first done", "second held"]
        await second.close()  # its unlock, waited for on its own connection, went out
        assert not await _held_elsewhere(db, KEY)
    finally:
        await first.close()
        await second.close()


async def _note(locks: ConversationLocks, order: list[str]) -> None:
    async with locks.hold(KEY):
        order.append("second held")
