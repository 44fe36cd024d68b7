"""`bangfu user ...` and `bangfu export ...` as an administrator runs them."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from storage.db import Database
from storage.migrate import upgrade
from storage.models import AuditLog, WebUser
from tests import factories as f
from webconsole.passwords import verify_password


@pytest.fixture
def admin_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'bangfu.db'}"
    upgrade(url)
    monkeypatch.setenv("BANGFU_DATABASE_URL", url)

    async def seed() -> None:
        db = Database(url)
        async with db.transaction() as s:
            village = await f.unit(s, "博白县/顿谷镇/旧门村")
            who = await f.cadre(s, "王建国", at=village)
            hh = await f.household(s, "黄大福", village=village)
            await f.pairing(s, who, hh)
            await f.contact(s, who, hh, "visit", date(2026, 3, 2), summary="@SUM(A1)")
            await f.contact(s, who, hh, "call", date(2026, 5, 9), summary="问了收成")
        await db.dispose()

    asyncio.run(seed())
    return url


def _users(url: str) -> list[WebUser]:
    async def run() -> list[WebUser]:
        db = Database(url)
        async with db.sessions() as s:
            rows = list(await s.scalars(select(WebUser)))
        await db.dispose()
        return rows

    return asyncio.run(run())


def test_first_admin_is_one_command_and_its_password_works(admin_db, capsys) -> None:
    assert main(["user", "create", "--name", "county", "--unit", "博白县", "--role", "admin"]) == 0
    out = capsys.readouterr().out.splitlines()
    password = out[1].strip()
    assert len(password) >= 10 and "只显示这一次" in out[2]
    (user,) = _users(admin_db)
    assert user.role == "admin" and verify_password(user.password_hash, password)
    assert password not in user.password_hash


def test_user_refusals_are_clear(admin_db, capsys) -> None:
    assert (
        main(["user", "create", "--name", "x", "--unit", "博白县/无此镇", "--role", "viewer"]) == 2
    )
    assert "找不到单位" in capsys.readouterr().err
    assert main(["user", "create", "--name", "x", "--unit", "博白县", "--role", "viewer"]) == 0
    assert main(["user", "create", "--name", "x", "--unit", "博白县", "--role", "viewer"]) == 2
    assert "已被使用" in capsys.readouterr().err


def test_disable_and_reset(admin_db, capsys) -> None:
    main(["user", "create", "--name", "dungu", "--unit", "博白县/顿谷镇", "--role", "supervisor"])
    first = capsys.readouterr().out.splitlines()[1]
    assert main(["user", "disable", "--name", "dungu"]) == 0
    assert main(["user", "list"]) == 0
    assert "停用" in capsys.readouterr().out
    assert main(["user", "reset", "--name", "dungu"]) == 0
    second = capsys.readouterr().out.splitlines()[1]
    (user,) = _users(admin_db)
    assert not user.active
    assert verify_password(user.password_hash, second) and not verify_password(
        user.password_hash, first
    )
    assert main(["user", "reset", "--name", "nobody"]) == 2


def test_export_contacts_xlsx(admin_db, tmp_path, capsys) -> None:
    out = tmp_path / "contacts.xlsx"
    assert main(["export", "contacts", "--unit", "博白县", "--from", "2026-01-01", str(out)]) == 0
    assert "已导出 2 行" in capsys.readouterr().out
    wb = load_workbook(out)
    assert wb.sheetnames == ["联系台账", "干部汇总"]
    rows = list(wb["联系台账"].iter_rows(values_only=True))
    assert rows[0][:4] == ("县", "乡镇", "村", "户编号")
    assert rows[1][:3] == ("博白县", "顿谷镇", "旧门村")
    assert rows[1][7].date() == date(2026, 3, 2)  # a real date cell
    cell = wb["联系台账"]["J2"]
    assert cell.value == "@SUM(A1)" and cell.data_type == "s"  # text, not a formula
    summary = list(wb["干部汇总"].iter_rows(values_only=True))
    assert summary[1][0] == "王建国" and summary[1][7:9] == (1, 1)  # calls, visits


def test_export_refusals(admin_db, tmp_path, capsys) -> None:
    f_ = str(tmp_path / "x.xlsx")
    assert (
        main(
            [
                "export",
                "contacts",
                "--unit",
                "博白县",
                "--from",
                "2026-05-01",
                "--to",
                "2026-01-01",
                f_,
            ]
        )
        == 2
    )
    assert "晚于" in capsys.readouterr().err
    assert main(["export", "contacts", "--unit", "无此县", f_]) == 2
    assert main(["export", "contacts", "--unit", "博白县", str(tmp_path / "x.pdf")]) == 2
    assert not Path(f_).exists()


def test_export_csv_neutralises_formulas(admin_db, tmp_path) -> None:
    out = tmp_path / "c.csv"
    assert main(["export", "contacts", "--unit", "博白县/顿谷镇", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "'@SUM(A1)" in text and "2026-03-02" in text


def test_exports_are_audited(admin_db, tmp_path) -> None:
    main(["export", "cadres", "--unit", "博白县", str(tmp_path / "k.xlsx")])

    async def actions() -> list[str]:
        db = Database(admin_db)
        async with db.sessions() as s:
            rows = list(await s.scalars(select(AuditLog.action)))
        await db.dispose()
        return rows

    assert "export" in asyncio.run(actions())
