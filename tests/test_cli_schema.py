"""BANGFU_DATABASE_SCHEMA is honoured by the admin commands as by the bot: on a PostgreSQL
database shared by schema, `bangfu db upgrade` migrates that schema (not public), the admin
commands read and write there, and the bot's own `Database` sees what they wrote."""

from __future__ import annotations

import asyncio
import csv
import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bench.roster_rows import county_rows
from bot.cli import adminkit, main
from bot.config import WebSettings, load_settings
from bot.roster.files import write_rows_csv
from bot.run import start
from storage.db import Database
from storage.models import Cadre, Household, WebUser
from tests.clocks import RunningClock
from tests.conftest import PG_REQUIRED, PG_URL, _off_loop, _pg_reachable
from tests.tg_support import free_port

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
OURS = {"alembic_version", "cadres", "households", "pairings", "web_users"}


def _sql(statement: str, params: dict[str, str] | None = None) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        db = Database(PG_URL)  # no schema: the server's default search_path
        try:
            async with db.engine.begin() as conn:
                result = await conn.execute(text(statement), params or {})
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            await db.dispose()

    return _off_loop(asyncio.run, run())


def _tables(schema: str) -> set[str]:
    rows = _sql("SELECT tablename FROM pg_tables WHERE schemaname = :s", {"s": schema})
    return {str(name) for (name,) in rows}


@pytest.fixture
def private_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A schema name that does not exist yet, configured as the CLI and the bot read it."""
    reason = _off_loop(asyncio.run, _pg_reachable(PG_URL))
    if reason and PG_REQUIRED:
        pytest.fail(f"PostgreSQL is required (BANGFU_TEST_PG_REQUIRED) — {reason}", pytrace=False)
    if reason:
        pytest.skip(f"PostgreSQL tests skipped — {reason}")
    schema = f"bangfu_cli_{os.getpid()}_{secrets.token_hex(3)}"
    monkeypatch.chdir(tmp_path)  # no stray bangfu.toml
    for name in [n for n in os.environ if n.startswith("BANGFU_") and "TEST" not in n]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BANGFU_DATABASE_URL", PG_URL)
    monkeypatch.setenv("BANGFU_DATABASE_SCHEMA", schema)
    try:
        yield schema
    finally:
        _sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def _what_the_bot_sees(schema: str) -> tuple[set[str], set[str], int]:
    settings = load_settings()
    settings = settings.model_copy(update={"web": WebSettings(host="127.0.0.1", port=free_port())})
    rt = await start(settings, clock=RunningClock(NOW), channels=[], services=[])
    try:
        assert rt.db.schema == schema
        async with rt.db.transaction() as s:
            cadres = set(await s.scalars(select(Cadre.name)))
            users = set(await s.scalars(select(WebUser.name)))
            households = len(list(await s.scalars(select(Household.id))))
    finally:
        await rt.stop()
    return cadres, users, households


def test_admin_commands_and_the_bot_share_the_configured_schema(
    private_schema: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(adminkit, "admin_clock", lambda settings: RunningClock(NOW))
    public_before = _tables("public")

    assert main(["db", "upgrade"]) == 0  # creates the schema, then migrates it
    assert _tables(private_schema) >= OURS
    assert _tables("public") - public_before == set()  # nothing landed in public

    roster = tmp_path / "r.csv"
    write_rows_csv(roster, county_rows(10))  # 2 cadres, 10 households
    assert main(["roster", "import", str(roster)]) == 0
    assert main(["user", "create", "--name", "县办", "--unit", "测试县", "--role", "admin"]) == 0
    for phone, household in (("13000000000", "H000001"), ("13000000001", "H000007")):
        call = ["--household", household, "--kind", "call", "--date", "2026-11-20"]
        assert main(["record", "add", "--phone", phone, *call]) == 0
    capsys.readouterr()

    ledger = tmp_path / "households.csv"
    assert main(["export", "households", "--unit", "测试县", str(ledger)]) == 0
    with ledger.open(encoding="utf-8-sig") as f:
        text_ = f.read()
    assert "户主000000" in text_ and "户主000009" in text_
    assert len(list(csv.reader(text_.splitlines()))) == 11  # a header and the 10 households

    capsys.readouterr()
    assert main(["doctor"]) == 0
    assert "2 个干部—农户组合" in capsys.readouterr().out

    cadres, users, households = asyncio.run(_what_the_bot_sees(private_schema))
    assert cadres == {"干部00000", "干部00001"}
    assert users == {"县办"}
    assert households == 10
    assert _tables("public") - public_before == set()


def test_upgrade_twice_and_a_second_deployment_beside_it(
    private_schema: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Alembic's version table is the schema's own: a second upgrade finds it at head, and
    another schema on the same database is migrated from scratch, each with its own rows."""
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    ((version,),) = _sql(f'SELECT version_num FROM "{private_schema}".alembic_version')
    upgraded, again = capsys.readouterr().out.splitlines()[-2:]
    assert "数据库已升级" in upgraded and version in upgraded
    assert f"空库 → {version}" in upgraded and f"empty → {version}" in upgraded
    assert again.startswith(f"数据库已是最新（{version}）")
    other = f"{private_schema}_b"
    try:
        monkeypatch.setenv("BANGFU_DATABASE_SCHEMA", other)
        assert main(["db", "upgrade"]) == 0
        assert _sql(f'SELECT version_num FROM "{other}".alembic_version') == [(version,)]
        assert main(["user", "create", "--name", "乙", "--unit", "测试县", "--role", "admin"]) == 2
        assert "测试县" in capsys.readouterr().err  # no such unit in this deployment
        assert _sql(f'SELECT count(*) FROM "{private_schema}".web_users') == [(0,)]
    finally:
        _sql(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')


def test_a_schema_name_that_is_not_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BANGFU_DATABASE_URL", f"sqlite:///{tmp_path / 'b.db'}")
    monkeypatch.setenv("BANGFU_DATABASE_SCHEMA", "county; DROP TABLE x")
    assert main(["db", "upgrade"]) == 2
    assert "BANGFU_DATABASE_SCHEMA" in capsys.readouterr().err
    assert not (tmp_path / "b.db").exists()


def test_on_sqlite_the_schema_is_ignored_as_the_bot_ignores_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BANGFU_DATABASE_URL", f"sqlite:///{tmp_path / 'b.db'}")
    monkeypatch.setenv("BANGFU_DATABASE_SCHEMA", "county_a")
    assert main(["db", "upgrade"]) == 0
    write_rows_csv(tmp_path / "r.csv", county_rows(5))
    assert main(["roster", "import", str(tmp_path / "r.csv")]) == 0
    ledger = tmp_path / "households.csv"
    assert main(["export", "households", "--unit", "测试县", str(ledger)]) == 0
    assert len(ledger.read_text(encoding="utf-8-sig").splitlines()) == 6  # header + 5


def test_backup_and_restore_cover_the_configured_schema_only(
    private_schema: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The restore drill in a shared database: the schema's rows come back as backed up, and
    the deployment in the schema beside it is neither in the backup nor touched by a restore."""
    other = f"{private_schema}_b"
    try:
        monkeypatch.setenv("BANGFU_DATABASE_SCHEMA", other)
        assert main(["db", "upgrade"]) == 0
        write_rows_csv(tmp_path / "b.csv", county_rows(5))
        assert main(["roster", "import", str(tmp_path / "b.csv")]) == 0
        assert (
            main(["user", "create", "--name", "乙县办", "--unit", "测试县", "--role", "admin"]) == 0
        )

        monkeypatch.setenv("BANGFU_DATABASE_SCHEMA", private_schema)
        assert main(["db", "upgrade"]) == 0
        write_rows_csv(tmp_path / "a.csv", county_rows(10))
        assert main(["roster", "import", str(tmp_path / "a.csv")]) == 0
        dump = tmp_path / "a.dump"
        assert main(["backup", str(dump)]) == 0
        assert (
            main(["user", "create", "--name", "晚来", "--unit", "测试县", "--role", "admin"]) == 0
        )
        assert main(["restore", str(dump), "--yes"]) == 0, capsys.readouterr().err

        rows = _sql(f'SELECT name FROM "{private_schema}".web_users')
        assert rows == []  # the account made after the backup is gone
        assert _sql(f'SELECT count(*) FROM "{private_schema}".households') == [(10,)]
        assert _sql(f'SELECT name FROM "{other}".web_users') == [("乙县办",)]
        assert _sql(f'SELECT count(*) FROM "{other}".households') == [(5,)]

        _sql(f'DROP SCHEMA "{private_schema}" CASCADE')  # the wipe: the schema itself goes
        assert main(["restore", str(dump), "--yes"]) == 0, capsys.readouterr().err
        assert _sql(f'SELECT count(*) FROM "{private_schema}".households') == [(10,)]

        monkeypatch.setenv("BANGFU_DATABASE_SCHEMA", other)  # not the backup's schema
        capsys.readouterr()
        assert main(["restore", str(dump), "--yes"]) == 2
        assert f"没有模式 {other}" in capsys.readouterr().err
        assert _sql(f'SELECT count(*) FROM "{other}".households') == [(5,)]
    finally:
        _sql(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')
