"""The admin commands as an administrator runs them: `bangfu roster|invite|cadre ...`."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bench.roster_rows import county_rows
from bot.cli import main
from bot.roster.files import write_rows_csv
from core.clock import SystemClock
from storage.db import Database
from storage.invites import InviteError, redeem_invite
from storage.migrate import upgrade
from storage.models import Cadre, Invite, Unit


@pytest.fixture
def admin_db(tmp_path, monkeypatch) -> str:
    """A migrated SQLite file that the CLI finds through BANGFU_DATABASE_URL."""
    monkeypatch.chdir(tmp_path)  # no stray bangfu.toml
    url = f"sqlite:///{tmp_path / 'bangfu.db'}"
    upgrade(url)
    monkeypatch.setenv("BANGFU_DATABASE_URL", url)
    return url


def query(url: str, stmt):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        db = Database(url)
        try:
            async with db.transaction() as s:
                return (await s.execute(stmt)).all()
        finally:
            await db.dispose()

    return asyncio.run(run())


def redeem(url: str, code: str, kind: str):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        db = Database(url)
        try:
            async with db.transaction() as s:
                now = SystemClock().now()
                return await redeem_invite(s, code, kind=kind, now=now, used_by="telegram:1")
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_template_import_then_cadre_code_redeems_once(admin_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BANGFU_TELEGRAM__BOT_USERNAME", "bangfu_test_bot")
    assert main(["roster", "template", str(tmp_path / "t.xlsx")]) == 0
    assert main(["roster", "import", str(tmp_path / "t.xlsx")]) == 0
    assert "干部：新增 1" in capsys.readouterr().out

    assert main(["invite", "create", "--phone", "138 0013 8000"]) == 0

    out = capsys.readouterr().out
    code = re.search(r"/start (\w+)", out).group(1)  # type: ignore[union-attr]
    assert f"https://t.me/bangfu_test_bot?start={code}" in out
    cadre_id = query(admin_db, select(Cadre.id).where(Cadre.phone == "13800138000"))[0][0]
    assert redeem(admin_db, code, "cadre").cadre_id == cadre_id
    with pytest.raises(InviteError, match="used"):
        redeem(admin_db, code, "cadre")
    stored = query(admin_db, select(Invite.code_hash))[0][0]
    assert code not in stored  # only the hash is kept


def test_unknown_phone_fails_cleanly_and_stores_no_code(admin_db, capsys):
    assert main(["invite", "create", "--phone", "13912345678"]) == 2

    err = capsys.readouterr().err
    assert "找不到手机号为 13912345678 的干部" in err and "Traceback" not in err
    assert query(admin_db, select(func.count()).select_from(Invite))[0][0] == 0
    assert main(["invite", "create", "--phone", "12345"]) == 2
    assert "手机号格式不对" in capsys.readouterr().err


def test_group_code_for_a_unit_path_and_unknown_unit(admin_db, tmp_path, capsys):
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(5))
    assert main(["roster", "import", str(path)]) == 0
    capsys.readouterr()

    assert main(["invite", "create", "--group", "--unit", "测试县 / 镇00"]) == 0
    code = re.search(r"/bind (\w+)", capsys.readouterr().out).group(1)  # type: ignore[union-attr]
    unit_id = query(admin_db, select(Unit.id).where(Unit.path == "测试县/镇00"))[0][0]
    assert redeem(admin_db, code, "group").unit_id == unit_id

    assert main(["invite", "create", "--group", "--unit", "测试县/没有这个镇"]) == 2
    assert "找不到单位：测试县/没有这个镇" in capsys.readouterr().err
    assert main(["invite", "create", "--group"]) == 2


def test_import_with_bad_rows_lists_them_and_writes_nothing(admin_db, tmp_path, capsys):
    rows = list(county_rows(4))
    rows[1][3] = "abc"
    path = tmp_path / "r.csv"
    write_rows_csv(path, rows)

    assert main(["roster", "import", str(path)]) == 1

    err = capsys.readouterr().err
    assert "第 3 行【干部手机】不是有效的手机号：abc" in err
    assert "未写入任何数据" in err
    assert query(admin_db, select(func.count()).select_from(Cadre))[0][0] == 0


def test_import_dry_run_and_other_preset(admin_db, tmp_path, capsys):
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(5))

    assert main(["roster", "import", str(path), "--dry-run", "--policy", "融水"]) == 0

    out = capsys.readouterr().out
    assert "试运行" in out and "按「543」标准" in out
    assert query(admin_db, select(func.count()).select_from(Cadre))[0][0] == 0


def test_cadre_leave_set_and_cleared(admin_db, tmp_path, capsys):
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(1))
    main(["roster", "import", str(path)])
    until = SystemClock().now().date() + timedelta(days=10)

    assert main(["cadre", "leave", "--phone", "13000000000", "--until", until.isoformat()]) == 0
    assert query(admin_db, select(Cadre.leave_until))[0][0] == until
    assert main(["cadre", "leave", "--phone", "13000000000", "--clear"]) == 0
    assert query(admin_db, select(Cadre.leave_until))[0][0] is None

    capsys.readouterr()
    assert main(["cadre", "leave", "--phone", "13000000000", "--until", "2026-13-01"]) == 2
    assert main(["cadre", "leave", "--phone", "13000000000", "--until", "2001-01-01"]) == 2
    assert main(["cadre", "leave", "--phone", "13900000000", "--clear"]) == 2
    err = capsys.readouterr().err
    assert "日期格式不对" in err and "日期已经过去" in err and "找不到手机号" in err
    assert query(admin_db, select(Cadre.leave_until))[0][0] is None


def test_unmigrated_database_says_to_upgrade(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BANGFU_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")

    assert main(["invite", "create", "--phone", "13800138000"]) == 2

    assert "bangfu db upgrade" in capsys.readouterr().err


def test_large_file_shows_progress_on_stderr(admin_db, tmp_path, capsys):
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(10_000))

    assert main(["roster", "import", str(path)]) == 0

    captured = capsys.readouterr()
    assert "已读取 5000 行" in captured.err and "已检查 10000 / 10000 行" in captured.err
    assert "帮扶户已写入：10000 户" in captured.err
    assert "已读取" not in captured.out  # the summary stays clean for scripts
