"""`bangfu doctor` as an administrator runs it, after records entered through the CLI; and the
migration that creates the kept contact state fills it from the contacts already stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from sqlalchemy import select, text

from bot.cli import main
from storage.contact_state import drift, kept_households, kept_state
from storage.db import Database
from storage.migrate import upgrade
from storage.models import ContactState
from tests import factories as f
from tests.test_cli_admin import admin_db, query  # noqa: F401 (fixture)
from tests.test_roster_changes import FIRST, county  # noqa: F401 (fixture)


def _execute(url: str, sql: str) -> None:
    async def run() -> None:
        db = Database(url)
        try:
            async with db.transaction() as s:
                await s.execute(text(sql))
        finally:
            await db.dispose()

    asyncio.run(run())


def test_doctor_finds_no_drift_after_cli_writes_then_reports_and_fixes_damage(county, capsys):  # noqa: F811
    record = ["record", "add", "--phone", FIRST, "--household", "H000002", "--by", "张三"]
    assert main([*record, "--kind", "visit", "--date", "2026-11-05"]) == 0
    assert main([*record, "--kind", "call", "--date", "2026-11-08"]) == 0
    assert (
        main(["cadre", "transfer", "--phone", FIRST, "--unit", "测试县/镇00", "--end-pairings"])
        == 0
    )
    capsys.readouterr()
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "联系状态一致：1 个干部—农户组合" in out and "Contact state consistent" in out
    (row,) = query(county, select(ContactState))
    assert (row[0].last_call_on, row[0].last_visit_on) == (date(2026, 11, 8), date(2026, 11, 5))

    _execute(county, "UPDATE contact_state SET last_visit_on = '2026-01-01'")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "联系状态有偏差：1 个" in out
    assert (
        "保存的 电话 2026-11-08 走访 2026-01-01，按记录应为 电话 2026-11-08 走访 2026-11-05" in out
    )
    assert "bangfu doctor --fix" in out

    assert main(["doctor", "--fix"]) == 0
    assert "已按记录修复 1 个组合" in capsys.readouterr().out
    assert main(["doctor"]) == 0

    # The digests' monthly counts: a lost home visit is found and put back.
    _execute(county, "UPDATE contact_months SET visits = 0")
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "每月联系计数有偏差：1 个农户—月份与记录不符" in out
    assert "2026-11：保存的 联系 2 次 走访 0 次，按记录应为 联系 2 次 走访 1 次" in out
    assert main(["doctor", "--fix"]) == 0
    assert "已按记录修复 1 个农户—月份计数" in capsys.readouterr().out
    assert main(["doctor"]) == 0

    # Each household's last contact by any cadre (the digests' coverage): a lost visit date.
    _execute(county, "UPDATE household_state SET last_visit_on = NULL")
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "农户最近联系有偏差：1 个农户与记录不符" in out
    assert "按记录应为 最近联系 2026-11-08 走访 2026-11-05" in out
    assert main(["doctor", "--fix"]) == 0
    assert "已按记录修复 1 个农户的最近联系" in capsys.readouterr().out
    assert main(["doctor"]) == 0

    # Each village's households contacted per month (the console's trend): a lost count.
    _execute(county, "UPDATE village_months SET households = 5")
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "村每月联系户数有偏差：1 个村—月份与每月联系计数不符" in out
    assert "2026-11：保存的 5 户，按每月联系计数应为 1 户" in out
    assert main(["doctor", "--fix"]) == 0
    assert "已修复 1 个村—月份的联系户数" in capsys.readouterr().out
    assert main(["doctor"]) == 0

    # The scope counts a county root's figures are summed from: a household counted twice.
    _execute(
        county,
        "UPDATE unit_days SET n = n + 1 WHERE kind = 'h' AND src = 0 AND unit_id = "
        "(SELECT min(unit_id) FROM unit_days WHERE kind = 'h' AND src = 0 AND n = 1)",
    )
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "汇总计数（县级概览用）有偏差：1 行与记录不符" in out
    assert "保存的 2，按记录应为 1" in out
    assert main(["doctor", "--fix"]) == 0
    assert "已按记录重建汇总计数（1 行有偏差）" in capsys.readouterr().out
    assert main(["doctor"]) == 0

    # A cadre's reachable chat accounts (the root's unreachable list): one too many.
    _execute(county, "UPDATE cadre_scope SET reach = reach + 1")
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "汇总计数（县级概览用）有偏差" in out and "cadre_scope" in out
    assert main(["doctor", "--fix"]) == 0
    assert "已按记录重建汇总计数" in capsys.readouterr().out
    assert main(["doctor"]) == 0


def test_migration_fills_the_state_from_existing_contacts(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006_prog_household_status")  # contacts stored before the kept state

    async def before() -> None:
        db = Database(url)
        try:
            async with db.transaction() as s:
                cadre = await f.cadre(s, "王建国")
                a, b = await f.household(s, "黄大福"), await f.household(s, "陈阿婆")
                await f.contact(s, cadre, a, "visit", date(2026, 10, 3))
                await f.contact(s, cadre, a, "call", date(2026, 11, 2))
                undone = datetime(2026, 11, 10, tzinfo=UTC)
                await f.contact(s, cadre, a, "visit", date(2026, 11, 9), deleted_at=undone)
                await f.contact(s, cadre, b, "other", date(2026, 11, 9))  # not a duty contact
        finally:
            await db.dispose()

    asyncio.run(before())
    upgrade(url)

    async def after() -> None:
        db = Database(url)
        try:
            async with db.sessions() as s:
                ((cadre, hh),) = (await kept_state(s)).keys()
                assert await kept_state(s) == {
                    (cadre, hh): (date(2026, 11, 2), date(2026, 10, 3), date(2026, 11, 2))
                }
                assert await drift(s) == []
                assert await kept_households(s) == {hh: (date(2026, 11, 2), date(2026, 10, 3))}
        finally:
            await db.dispose()

    asyncio.run(after())
