"""Short transactions (one update's): SQLite statements on the event loop, PostgreSQL
connections not pinged before use."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.i18n import t
from storage.conversations import mark_processed
from storage.db import Database, create_inline_engine
from storage.sqlite_inline import InlineConnection
from tests.flowkit import bound_world


def _table(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE notes (body TEXT)")
    return other


async def test_a_busy_database_is_waited_for_without_stopping_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    other = _table(path)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    other.execute("INSERT INTO notes VALUES ('theirs')")
    engine = create_inline_engine(f"sqlite:///{path}", str(path))
    ticks = 0

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO notes VALUES ('ours')"))

    try:
        ours = asyncio.create_task(write())
        while ticks < 20:  # the loop runs other work meanwhile
            await asyncio.sleep(0.001)
            ticks += 1
        assert not ours.done()
        other.execute("COMMIT")
        await ours
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT body FROM notes ORDER BY rowid"))).all()
        assert [r[0] for r in rows] == ["theirs", "ours"]
    finally:
        other.close()
        await engine.dispose()


async def test_a_database_busy_past_the_deadline_fails_the_statement(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    other = _table(path)
    other.execute("BEGIN IMMEDIATE")
    conn = InlineConnection(sqlite3.connect(path, check_same_thread=False), busy_seconds=0.02)
    conn._conn.execute("PRAGMA busy_timeout=0")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await conn.execute("INSERT INTO notes VALUES ('ours')")
        other.execute("ROLLBACK")
        await conn.execute("INSERT INTO notes VALUES ('ours')")  # free again: it goes in
        await conn.commit()
        assert other.execute("SELECT body FROM notes").fetchall() == [("ours",)]
    finally:
        await conn.close()
        other.close()


async def test_an_update_on_a_connection_that_died_is_handled_on_a_fresh_one(
    db: Database,
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("pooled server connections: PostgreSQL")
    w = await bound_world(db)
    await w.chat.say("菜单")
    async with db.short_transaction() as s:  # the pooled connection the next update takes
        pid = await s.scalar(text("SELECT pg_backend_pid()"))
    async with db.engine.begin() as conn:  # the server drops it (a restart, a proxy)
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    replies = await w.chat.say("今天去李四家走访，看了新房")
    texts = [r.text for r in replies]
    assert t("flow.internal_error", "zh") not in texts
    assert any("确认保存" in b.label for r in replies for row in r.buttons for b in row)


async def _processed(db: Database) -> list[str]:
    async with db.transaction() as s:
        rows = await s.execute(text("SELECT message_id FROM processed_messages ORDER BY 1"))
        return [r[0] for r in rows]


async def test_a_short_transaction_commits_and_rolls_back_its_direct_and_session_statements(
    db: Database,
) -> None:
    """The prebuilt statements run on the driver's connection, anything else through an
    ORM session made on first use: one transaction either way."""
    now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    session_insert = text(
        "INSERT INTO processed_messages (channel, message_id, processed_at) VALUES ('t', :m, :at)"
    )
    async with db.short_transaction() as s:  # direct only
        assert await mark_processed(s, "t", "direct", now)
    async with db.short_transaction() as s:  # direct, then a session on the same connection
        assert await mark_processed(s, "t", "mixed-1", now)
        await s.execute(session_insert, {"m": "mixed-2", "at": now})
        assert await mark_processed(s, "t", "mixed-3", now)
    async with db.short_transaction() as s:  # a session made, but not for a statement
        assert await mark_processed(s, "t", "info", now)
        s.info["touched"] = True
    with pytest.raises(RuntimeError):
        async with db.short_transaction() as s:
            assert await mark_processed(s, "t", "lost-1", now)
            await s.execute(session_insert, {"m": "lost-2", "at": now})
            raise RuntimeError("the update failed")
    with pytest.raises(RuntimeError):
        async with db.short_transaction() as s:
            assert await mark_processed(s, "t", "lost-3", now)
            raise RuntimeError("the update failed")
    async with db.short_transaction() as s:  # a redelivery is still seen as one
        assert not await mark_processed(s, "t", "direct", now)
    assert await _processed(db) == ["direct", "info", "mixed-1", "mixed-2", "mixed-3"]


async def test_a_driver_error_in_a_short_transaction_is_sqlalchemys_and_rolls_it_back(
    db: Database,
) -> None:
    now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    with pytest.raises(DBAPIError) as caught:
        async with db.short_transaction() as s:
            assert await mark_processed(s, "t", "before", now)
            await mark_processed(s, "t", None, now)  # type: ignore[arg-type]  # NOT NULL
    assert not caught.value.connection_invalidated
    async with db.short_transaction() as s:  # the connection is usable again
        assert await mark_processed(s, "t", "after", now)
    assert await _processed(db) == ["after"]
