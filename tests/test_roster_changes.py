"""A roster that changes by hand: pairings end, cadres move or leave, households exit,
records entered on a cadre's behalf; reminders and digests follow at once."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bench.roster_rows import county_rows
from bot.cli import adminkit, main
from bot.roster.files import write_rows_csv
from core.clock import FixedClock
from core.policy import Policy
from reminders.sweep import preview_sweep
from storage.db import Database
from storage.models import AuditLog, Cadre, ChatAccount, Contact, Household, Pairing, Unit
from storage.stats_scope import scope_select
from tests.test_cli_admin import admin_db, query  # noqa: F401 (fixture)

TZ = ZoneInfo("Asia/Shanghai")
IMPORTED = datetime(2026, 11, 2, 10, 0, tzinfo=TZ)
NOV_20 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # a monthly-contact stage day
FIRST, SECOND = "13000000000", "13000000001"  # cadres 0 and 1: households H000000-4, -5-9


@pytest.fixture
def county(admin_db, tmp_path, monkeypatch, capsys):  # noqa: F811
    """Four cadres with five households each, imported on 2026-11-02."""
    clock = FixedClock(IMPORTED)
    monkeypatch.setattr(adminkit, "admin_clock", lambda settings: clock)
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(20))
    assert main(["roster", "import", str(path)]) == 0
    asyncio.run(_bind_everyone(admin_db))
    clock.set(datetime(2026, 11, 10, 15, 0, tzinfo=TZ))  # the changes happen a week later
    capsys.readouterr()
    return admin_db


async def _bind_everyone(url: str) -> None:
    """Every cadre on Telegram, so the sweep has someone to remind."""
    db = Database(url)
    try:
        async with db.transaction() as s:
            for cid, phone in (await s.execute(select(Cadre.id, Cadre.phone))).all():
                s.add(
                    ChatAccount(
                        channel="telegram",
                        account_id=phone,
                        chat_id=phone,
                        cadre_id=cid,
                        bound_at=IMPORTED,
                    )
                )
    finally:
        await db.dispose()


def reminded(url: str) -> dict[str, set[str]]:
    """Cadre name → household heads the sweep on 11-20 would remind them of."""

    async def run() -> dict[str, set[str]]:
        db = Database(url)
        try:
            result = await preview_sweep(db, NOV_20, Policy())
            async with db.sessions() as s:
                heads = dict((await s.execute(select(Household.id, Household.head_name))).all())
            return {
                r.cadre_name: {heads[d.pairing.household_id] for d in r.duties}
                for r in result.reminders
            }
        finally:
            await db.dispose()

    return asyncio.run(run())


def in_digest_scope(url: str) -> int:
    """Pairings the county's digest counts on 11-20."""
    stmt = select(func.count()).select_from(scope_select("测试县", date(2026, 11, 20)).subquery())
    return query(url, stmt)[0][0]


def audit_actions(url: str) -> list[str]:
    return [a for (a,) in query(url, select(AuditLog.action).order_by(AuditLog.id))]


def test_pairing_end_stops_its_reminder_and_keeps_the_history(county, capsys):
    assert "户主000001" in reminded(county)["干部00000"]
    assert in_digest_scope(county) == 20

    args = ["pairing", "end", "--phone", FIRST, "--household", "H000001"]
    assert main([*args, "--reason", "调整帮扶责任人"]) == 0
    assert "已结束结对：干部00000 — 户主000001" in capsys.readouterr().out

    assert "户主000001" not in reminded(county)["干部00000"]
    assert len(reminded(county)["干部00000"]) == 4
    assert in_digest_scope(county) == 19
    (row,) = query(county, select(Pairing).where(Pairing.end_reason != ""))
    assert (row[0].active, row[0].end_date, row[0].end_reason) == (
        False,
        date(2026, 11, 10),
        "调整帮扶责任人",
    )
    assert audit_actions(county)[-1] == "pairing.end"
    # Ending it again is refused: nothing is active between them any more.
    assert main([*args, "--reason", "再来"]) == 2
    assert "没有进行中的结对" in capsys.readouterr().err


def test_household_exit_ends_all_its_pairings(county, capsys):
    assert main(["household", "exit", "--id", "H000007", "--status", "迁出"]) == 0
    assert "户主000007 户已退出（迁出），结束结对 1 个" in capsys.readouterr().out
    assert "户主000007" not in reminded(county)["干部00001"]
    assert in_digest_scope(county) == 19
    (status,) = query(county, select(Household.status).where(Household.code == "H000007"))[0]
    assert status == "exited"
    assert main(["household", "exit", "--id", "H000007", "--status", "迁出"]) == 2
    assert "已经退出" in capsys.readouterr().err


def test_deactivate_stops_the_cadres_reminders_and_scores(county, capsys):
    assert main(["cadre", "deactivate", "--phone", SECOND]) == 0
    assert "结束结对 5 个" in capsys.readouterr().out
    assert "干部00001" not in reminded(county)
    assert in_digest_scope(county) == 15
    (active,) = query(county, select(Cadre.active).where(Cadre.phone == SECOND))[0]
    assert active is False
    reasons = query(county, select(Pairing.end_reason).where(Pairing.active.is_(False)))
    assert {r for (r,) in reasons} == {"干部停用"}


def test_transfer_moves_the_cadre_and_keeps_history(county, capsys):
    assert main(["cadre", "transfer", "--phone", FIRST, "--unit", "测试县/单位03"]) == 0
    assert "从 测试县/单位00 到 测试县/单位03" in capsys.readouterr().out
    unit = query(
        county,
        select(Unit.path).join(Cadre, Cadre.unit_id == Unit.id).where(Cadre.phone == FIRST),
    )
    assert unit == [("测试县/单位03",)]
    assert len(reminded(county)["干部00000"]) == 5  # still responsible for the same homes
    (detail,) = query(county, select(AuditLog.detail).where(AuditLog.action == "cadre.transfer"))[
        0:1
    ]
    assert detail[0]["from_unit"] == "测试县/单位00" and detail[0]["to_unit"] == "测试县/单位03"

    args = ["cadre", "transfer", "--phone", FIRST, "--unit", "测试县/镇00", "--end-pairings"]
    assert main(args) == 0
    assert "干部00000" not in reminded(county)
    assert main(["cadre", "transfer", "--phone", FIRST, "--unit", "测试县/没有"]) == 2
    assert "找不到单位" in capsys.readouterr().err


def test_back_entry_is_marked_audited_and_fulfils_the_duty(county, capsys, monkeypatch):
    assert "户主000002" in reminded(county)["干部00000"]
    args = ["record", "add", "--phone", FIRST, "--household", "H000002", "--kind", "visit"]
    assert main([*args, "--date", "2026-11-05", "--note", "看了鸡舍", "--by", "县扶贫办张三"]) == 0
    out = capsys.readouterr().out
    assert "已补录" in out and "录入人 cli:县扶贫办张三" in out

    (contact,) = query(county, select(Contact))[0]
    assert (contact.kind, contact.occurred_on, contact.summary, contact.entered_by) == (
        "visit",
        date(2026, 11, 5),
        "看了鸡舍",
        "cli:县扶贫办张三",
    )
    assert "户主000002" not in reminded(county)["干部00000"]
    (audit,) = query(county, select(AuditLog).where(AuditLog.action == "contact.back_entry"))
    assert audit[0].actor == "cli:县扶贫办张三" and audit[0].entity_id == str(contact.id)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--household", "H999999", "--date", "2026-11-05"], "找不到户：H999999"),
        (["--household", "H000009", "--date", "2026-11-05"], "没有与 户主000009 户结对"),
        (["--household", "H000002", "--date", "2026-12-01"], "日期还没到"),
        (["--household", "H000002", "--date", "11月5日"], "日期格式不对"),
    ],
)
def test_bad_back_entry_is_refused_and_writes_nothing(county, capsys, argv, message):
    args = ["record", "add", "--phone", FIRST, "--kind", "call", *argv]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert query(county, select(func.count()).select_from(Contact))[0][0] == 0


def test_unknown_household_and_phone_write_nothing(county, capsys):
    before = audit_actions(county)
    assert main(["household", "exit", "--id", "没有", "--status", "迁出"]) == 2
    assert "找不到户：没有" in capsys.readouterr().err
    assert (
        main(["pairing", "end", "--phone", "13999999999", "--household", "H1", "--reason", "x"])
        == 2
    )
    assert "找不到手机号为 13999999999 的干部" in capsys.readouterr().err
    assert audit_actions(county) == before


def test_pairing_end_with_an_unknown_household_writes_nothing(county, capsys):
    before = audit_actions(county)
    args = ["pairing", "end", "--phone", FIRST, "--household", "H999999", "--reason", "调走"]
    assert main(args) == 2
    assert "找不到户：H999999" in capsys.readouterr().err
    assert audit_actions(county) == before
    assert (
        query(county, select(func.count()).select_from(Pairing).where(Pairing.active))[0][0]
        == 20  # all 20 pairings still active
    )
