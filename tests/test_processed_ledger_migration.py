"""Migration 0023: on SQLite the processed-message ledger is a WITHOUT ROWID table keyed by
(channel, message_id); its rows survive the rebuild both ways, and a message already marked
is still a redelivery after it. PostgreSQL is left as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from storage.conversations import forget_processed_before, mark_processed
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from tests.conftest import _off_loop

BEFORE = "0022_sweep_rounds"
AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


async def _has_rowid(db: Database) -> bool:
    async with db.sessions() as s:
        sql = await s.scalar(
            sa.text("SELECT sql FROM sqlite_master WHERE name = 'processed_messages'")
        )
    assert sql is not None
    return "WITHOUT ROWID" not in sql.upper()


async def _marked(db: Database) -> list[tuple[str, str]]:
    async with db.sessions() as s:
        rows = await s.execute(sa.text("SELECT channel, message_id FROM processed_messages"))
        return sorted((channel, message) for channel, message in rows.all())


async def _mark(db: Database, channel: str, message: str) -> bool:
    async with db.transaction() as s:
        return await mark_processed(s, channel, message, AT)


async def test_the_ledger_is_rebuilt_with_its_rows_and_still_finds_redeliveries(db) -> None:
    sqlite = db.dialect == "sqlite"
    if sqlite:
        assert not await _has_rowid(db)
    await db.dispose()
    _off_loop(command.downgrade, alembic_config(db.url, schema=db.schema), BEFORE)
    if sqlite:
        assert await _has_rowid(db)
    assert await _mark(db, "telegram", "1001")
    assert await _mark(db, "wecom", "1001")
    await db.dispose()
    _off_loop(upgrade, db.url, schema=db.schema)

    if sqlite:
        assert not await _has_rowid(db)
    assert await _marked(db) == [("telegram", "1001"), ("wecom", "1001")]
    assert not await _mark(db, "telegram", "1001")  # marked before the rebuild: a redelivery
    assert await _mark(db, "telegram", "1002")
    async with db.transaction() as s:  # the prune still finds them by processed_at
        assert await forget_processed_before(s, AT.replace(hour=3)) == 3
    assert await _marked(db) == []

    await db.dispose()
    _off_loop(command.downgrade, alembic_config(db.url, schema=db.schema), BEFORE)
    assert await _mark(db, "telegram", "1003")
    await db.dispose()
    _off_loop(upgrade, db.url, schema=db.schema)
    assert await _marked(db) == [("telegram", "1003")]
