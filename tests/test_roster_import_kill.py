"""A real `bangfu roster import` SIGKILLed after some batches have committed: the durable
journal lets `bangfu roster recover` (or the next import) take every batch back, and the
same file imported again lands exactly once. A second import at once is refused."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bench.roster_rows import county_rows
from bot.config import Settings
from bot.roster.files import write_rows_csv
from bot.run import _recover_roster_import
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Cadre, Household, Pairing, Unit
from storage.roster_journal import import_lock, pending
from tests.conftest import PG_REQUIRED, PG_URL, _off_loop, _pg_reachable

ROOT = Path(__file__).resolve().parent.parent
BANGFU = Path(sys.executable).parent / "bangfu"
BIG = 10_000  # households in the killed import: dozens of batches


@pytest.fixture(params=["sqlite", "postgresql"])
async def cli_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database the CLI reaches by its URL alone (PostgreSQL: a database of its own,
    in its default schema)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bangfu.db'}"
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        try:
            yield db
        finally:
            await db.dispose()
        return
    reason = await _pg_reachable(PG_URL)
    if reason and PG_REQUIRED:
        pytest.fail(f"PostgreSQL is required (BANGFU_TEST_PG_REQUIRED) — {reason}", pytrace=False)
    if reason:
        pytest.skip(f"PostgreSQL tests skipped — {reason}")
    name = f"bangfu_kill_{os.getpid()}_{secrets.token_hex(3)}"
    admin = Database(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
        _off_loop(upgrade, url)
        db = Database(url)
        try:
            yield db
        finally:
            await db.dispose()
            async with admin.engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def bangfu(db: Database, *args: str) -> list[str]:
    return [str(BANGFU), *args]


def env(db: Database) -> dict[str, str]:
    return {**os.environ, "BANGFU_DATABASE_URL": db.url, "PYTHONPATH": str(ROOT)}


async def run_cli(db: Database, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *bangfu(db, *args), cwd=ROOT, env=env(db),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables an import writes, in full."""
    async with db.transaction() as s:
        return {
            m.__tablename__: [
                tuple(r) for r in (await s.execute(select(m.__table__).order_by(m.id))).all()
            ]
            for m in (Unit, Cadre, Household, Pairing)
        }


def roster(tmp_path: Path, rows: list[list[str]], name: str) -> Path:
    path = tmp_path / name
    write_rows_csv(path, rows)
    return path


async def test_an_import_killed_outright_is_taken_back_and_a_rerun_lands_once(
    cli_db: Database, tmp_path: Path
) -> None:
    db = cli_db
    code, out = await run_cli(
        db, "roster", "import", str(roster(tmp_path, list(county_rows(300)), "a.csv"))
    )
    assert code == 0, out
    before = await snapshot(db)
    # The bigger file renames cadres and changes households the first one stored (updates),
    # and adds 9,700 households with their cadres and pairings (inserts).
    big = [list(r) for r in county_rows(BIG)]
    for r in big[:100]:
        r[1] += "甲"
        r[8] = "7"
    path = roster(tmp_path, big, "b.csv")

    await kill_mid_import(db, path)
    half = await snapshot(db)
    assert half != before  # batches of the killed import are in the database …
    assert len(half["households"]) < BIG  # … but not all of them

    # Two at once: while one holds the lock, another import is refused, clearly.
    async with import_lock(db):
        code, out = await run_cli(db, "roster", "import", str(path))
    assert code == 2 and "另一个名册导入正在进行" in out, out
    assert await snapshot(db) == half  # the refused import took nothing back, wrote nothing

    code, out = await run_cli(db, "roster", "recover")
    assert code == 0 and "已撤回" in out, out
    assert await snapshot(db) == before  # none of the killed import is left
    assert await pending(db) == 0
    code, out = await run_cli(db, "roster", "recover")
    assert code == 0 and "没有未完成的导入" in out, out

    code, out = await run_cli(db, "roster", "import", str(path))
    assert code == 0 and "导入完成" in out, out
    after = await snapshot(db)
    assert len(after["households"]) == len({r[5] for r in big}) == BIG
    assert len(after["pairings"]) == BIG
    assert len(after["cadres"]) == len({r[3] for r in big})
    renamed = {r[1] for r in big[:100]}
    assert renamed <= {c[1] for c in after["cadres"]}
    assert await pending(db) == 0
    # Exactly once: the same file again changes nothing.
    code, out = await run_cli(db, "roster", "import", str(path))
    assert code == 0, out
    assert await snapshot(db) == after


async def kill_mid_import(db: Database, path: Path) -> None:
    """Start a real import and SIGKILL it once several batches have committed."""
    proc = await asyncio.create_subprocess_exec(
        *bangfu(db, "roster", "import", str(path)), cwd=ROOT, env=env(db),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(240):
            while await pending(db) < 4:
                assert proc.returncode is None, "the import ended before it could be killed"
                await asyncio.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL


async def test_the_next_import_takes_back_a_killed_one_first(
    cli_db: Database, tmp_path: Path
) -> None:
    db = cli_db
    await kill_mid_import(db, roster(tmp_path, list(county_rows(BIG)), "b.csv"))
    small = list(county_rows(50))
    code, out = await run_cli(db, "roster", "import", str(roster(tmp_path, small, "s.csv")))
    assert code == 0 and "上次导入未完成" in out, out
    after = await snapshot(db)
    assert len(after["households"]) == 50 and len(after["pairings"]) == 50
    assert await pending(db) == 0


async def test_bangfu_run_takes_back_a_killed_import_at_start_up(
    cli_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = cli_db
    before = await snapshot(db)
    await kill_mid_import(db, roster(tmp_path, list(county_rows(BIG)), "b.csv"))
    assert await snapshot(db) != before
    # What `bangfu run` does before it starts its parts (bot.run.serve).
    await _recover_roster_import(Settings(database_url=db.url))
    assert await snapshot(db) == before
    assert await pending(db) == 0
    assert "took back an unfinished roster import" in caplog.text
