"""Short transactions (one update's): SQLite statements on the event loop, PostgreSQL
connections not pinged before use."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from core.i18n import t
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
