"""The database file and the media directory hold personal data: created owner-only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.media import MediaStore
from storage.db import Database
from storage.migrate import upgrade_async

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most servers run with, under which files come out 0644 unless we act."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_sqlite_file_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "bangfu.db"
    db = Database(f"sqlite:///{path}")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES ('张三')"))
        files = [tmp_path / name for name in sorted(os.listdir(tmp_path))]
        assert [p.name for p in files] == ["bangfu.db", "bangfu.db-shm", "bangfu.db-wal"]
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        await db.dispose()


async def test_db_upgrade_creates_the_file_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    await upgrade_async(f"sqlite:///{path}")
    assert mode(path) == 0o600


def test_media_directories_and_photos_are_owner_only(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "var" / "media")
    store.check()
    assert mode(tmp_path / "var" / "media") == 0o700
    ref = store.save(PNG, "image/png")
    photo = store.path_of(ref)
    assert photo is not None and photo.read_bytes() == PNG
    assert mode(photo) == 0o600 and mode(photo.parent) == 0o700
