"""The restore drill: back up a live database, wipe it, restore it, and find the data back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy import select

from bot.cli import main
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import Cadre, Invite
from tests.conftest import PG_URL
from tests.seed import seed

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def _cadres(url: str) -> set[str]:
    db = Database(url)
    try:
        async with db.transaction() as s:
            return set(await s.scalars(select(Cadre.name)))
    finally:
        await db.dispose()


async def _seed_and_back_up(url: str, backup: Path) -> None:
    """Seed, back up while the engine is open, then write a cadre the backup must not hold."""
    db = Database(url)
    try:
        await seed(db, NOW)
        assert await asyncio.to_thread(main, ["backup", str(backup), "--url", url]) == 0
        async with db.transaction() as s:
            town = (await s.scalars(select(Cadre.unit_id))).first()
            s.add(Cadre(name="晚来者", rank="", unit_id=town, phone="13800000009", created_at=NOW))
    finally:
        await db.dispose()
    assert await _cadres(url) == {"王建国", "李卫东", "晚来者"}


async def _restore_and_check(url: str, backup: Path) -> None:
    assert await asyncio.to_thread(main, ["restore", str(backup), "--url", url]) == 2  # no --yes
    assert await asyncio.to_thread(main, ["restore", str(backup), "--url", url, "--yes"]) == 0
    assert await _cadres(url) == {"王建国", "李卫东"}  # the snapshot, nothing later
    db = Database(url)
    try:
        async with db.transaction() as s:
            assert len(list(await s.scalars(select(Invite.id)))) == 2
    finally:
        await db.dispose()


async def test_sqlite_restore_drill(sqlite_template: Path, tmp_path: Path) -> None:
    live = tmp_path / "bangfu.db"
    shutil.copy(sqlite_template, live)
    url = f"sqlite:///{live}"
    backup = tmp_path / "bangfu-backup.db"
    await _seed_and_back_up(url, backup)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # personal data: owner-only
    for name in ("bangfu.db", "bangfu.db-wal", "bangfu.db-shm"):  # the wipe, WAL files too
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_path / name)
    await _restore_and_check(url, backup)
    assert stat.S_IMODE(live.stat().st_mode) == 0o600


async def test_pg_restore_drill(pg_schema: str, tmp_path: Path) -> None:
    """On a database of its own (a dump covers a whole database), dropped and re-created."""
    name = f"bangfu_drill_{secrets.token_hex(4)}"
    admin = PG_URL.replace("+asyncpg", "")
    url = f"{admin.rsplit('/', 1)[0]}/{name}"

    async def sql(statement: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    await sql(f'CREATE DATABASE "{name}"')
    try:
        await upgrade_async(url)
        backup = tmp_path / "bangfu.dump"
        await _seed_and_back_up(url, backup)
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        await sql(f'DROP DATABASE "{name}"')  # the wipe
        await sql(f'CREATE DATABASE "{name}"')
        await _restore_and_check(url, backup)
    finally:
        await sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_never_replaces_a_file_unless_told(
    sqlite_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{sqlite_template}"
    backup = tmp_path / "b.db"
    backup.write_bytes(b"yesterday's backup")
    assert main(["backup", str(backup), "--url", url]) == 2
    assert "文件已存在" in capsys.readouterr().err
    assert backup.read_bytes() == b"yesterday's backup"
    assert main(["backup", str(backup), "--url", url, "--force"]) == 0
    assert backup.read_bytes().startswith(b"SQLite format 3")
    assert [p.name for p in tmp_path.iterdir()] == ["b.db"]  # no temporary file left
