"""Shared fixtures: every test that takes `db` runs on SQLite and, when reachable, PostgreSQL.

PostgreSQL: BANGFU_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test). Each
test run migrates its own schema, so parallel runs on one server do not collide; set
BANGFU_TEST_PG_URL=off to skip those tests. CI sets BANGFU_TEST_PG_REQUIRED=1: an unreachable
server then fails those tests instead of skipping them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base

PG_URL = os.environ.get("BANGFU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_REQUIRED = os.environ.get("BANGFU_TEST_PG_REQUIRED", "") not in ("", "0")


async def _pg_reachable(url: str) -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    if url.lower() in ("", "off", "none", "0"):
        return "BANGFU_TEST_PG_URL=off"
    try:
        import asyncpg

        conn = await asyncio.wait_for(asyncpg.connect(url.replace("+asyncpg", "")), 3)
        await conn.close()
    except Exception as exc:  # any failure means "not here"; say which
        return f"PostgreSQL not reachable at {url.split('@')[-1]}: {type(exc).__name__}"
    return None


def _off_loop(fn, *args, **kw):  # type: ignore[no-untyped-def]
    """Run blocking set-up (which may call asyncio.run) outside the test's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kw).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    _off_loop(upgrade, f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    reason = _off_loop(asyncio.run, _pg_reachable(PG_URL))
    if reason and PG_REQUIRED:
        pytest.fail(f"PostgreSQL is required (BANGFU_TEST_PG_REQUIRED) — {reason}", pytrace=False)
    if reason:
        pytest.skip(f"PostgreSQL tests skipped — {reason}")
    schema = f"bangfu_t_{os.getpid()}_{secrets.token_hex(3)}"

    async def run(sql: str) -> None:
        db = Database(PG_URL)
        async with db.engine.begin() as conn:
            await conn.execute(text(sql))
        await db.dispose()

    _off_loop(asyncio.run, run(f'CREATE SCHEMA "{schema}"'))
    _off_loop(upgrade, PG_URL, schema=schema)
    yield schema
    _off_loop(asyncio.run, run(f'DROP SCHEMA "{schema}" CASCADE'))


async def _truncate_pg(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "bangfu.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        schema = request.getfixturevalue("pg_schema")
        database = Database(PG_URL, schema=schema)
        await _truncate_pg(database)
    try:
        yield database
    finally:
        await database.dispose()
