"""`bangfu roster import FILE --replace --unit PATH`: a unit's complete roster replaces what
it had; what is missing ends (history kept), and a dry run lists exactly that."""

from __future__ import annotations

import sqlite3
from datetime import date

from sqlalchemy import func, select

from bench.roster_rows import county_rows
from bot.cli import main
from bot.roster.files import write_rows_csv
from storage.models import AuditLog, Cadre, Household, Pairing
from tests.test_cli_admin import admin_db, query  # noqa: F401 (fixture)
from tests.test_roster_changes import county, in_digest_scope, reminded  # noqa: F401

UNIT = "测试县/单位01"
NEWCOMER = ["测试县/单位01", "干部新", "一般干部", "13900000099"]


def _unit01_file(tmp_path, *, drop_cadre: bool = False, extra=()):  # type: ignore[no-untyped-def]
    """Cadre 1 keeps H000005-7; a newcomer takes H000008; H000009 is off the roster."""
    rows = [r for r in county_rows(20) if r[0] == UNIT]
    kept = [] if drop_cadre else [r for r in rows if r[5] in ("H000005", "H000006", "H000007")]
    newcomer = [NEWCOMER + rows[3][4:]]  # H000008
    path = tmp_path / "unit01.csv"
    write_rows_csv(path, [*kept, *newcomer, *extra])
    return path


def _state(url: str) -> tuple[int, int, int, int]:
    return (
        query(url, select(func.count()).select_from(Pairing).where(Pairing.active))[0][0],
        query(url, select(func.count()).select_from(Cadre).where(Cadre.active))[0][0],
        query(url, select(func.count()).select_from(Household).where(Household.status == "active"))[
            0
        ][0],
        query(url, select(func.count()).select_from(AuditLog))[0][0],
    )


def test_dry_run_lists_exactly_what_would_end_and_writes_nothing(county, tmp_path, capsys):  # noqa: F811
    before = _state(county)
    path = _unit01_file(tmp_path)
    assert main(["roster", "import", str(path), "--replace", "--unit", UNIT, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "将结束结对 2 个，停用干部 0 人，1 户不再在册" in out
    ended = sorted(line for line in out.splitlines() if "结束结对：" in line)
    assert len(ended) == 2
    assert "干部00001（13000000001）— 户主000008" in ended[0]
    assert "干部00001（13000000001）— 户主000009" in ended[1]
    assert [line for line in out.splitlines() if line.startswith("  不再在册")] == [
        "  不再在册：户主000009（测试县/镇00/村09 H000009） / "
        "household off the roster: 户主000009 (测试县/镇00/村09 H000009)"
    ]
    assert _state(county) == before


def test_replace_ends_missing_pairings_and_reminders_follow(county, tmp_path, capsys):  # noqa: F811
    assert {"户主000008", "户主000009"} <= reminded(county)["干部00001"]
    path = _unit01_file(tmp_path)
    assert main(["roster", "import", str(path), "--replace", "--unit", UNIT]) == 0
    assert "已结束结对 2 个" in capsys.readouterr().out

    after = reminded(county)
    assert after["干部00001"] == {"户主000005", "户主000006", "户主000007"}
    newcomer = query(
        county,
        select(Household.code)
        .join(Pairing, Pairing.household_id == Household.id)
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .where(Cadre.phone == "13900000099", Pairing.active.is_(True)),
    )
    assert newcomer == [("H000008",)]  # no account yet, so no reminder: but it is theirs
    assert "户主000009" not in set().union(*after.values())
    assert in_digest_scope(county) == 19  # 20 - 2 ended + 1 new
    ended = query(
        county,
        select(Pairing.end_date, Pairing.end_reason).where(Pairing.active.is_(False)),
    )
    assert ended == [(date(2026, 11, 10), "名册更新：unit01.csv")] * 2
    (status,) = query(county, select(Household.status).where(Household.code == "H000009"))[0]
    assert status == "inactive"
    (detail,) = query(county, select(AuditLog.detail).where(AuditLog.action == "roster.import"))[-1]
    assert detail["replace_unit"] == UNIT and len(detail["pairings_ended"]) == 2

    # The full roster again: the ended pairing starts anew, the household is back on it.
    full = tmp_path / "full.csv"
    write_rows_csv(full, [r for r in county_rows(20) if r[0] == UNIT])
    assert main(["roster", "import", str(full), "--replace", "--unit", UNIT]) == 0
    (status,) = query(county, select(Household.status).where(Household.code == "H000009"))[0]
    assert status == "active"
    assert "户主000009" in reminded(county)["干部00001"]
    capsys.readouterr()
    assert main(["doctor"]) == 0  # every kept count followed both imports (no drift)


def test_a_cadre_missing_from_the_file_goes_inactive(county, tmp_path, capsys):  # noqa: F811
    path = _unit01_file(tmp_path, drop_cadre=True)
    assert main(["roster", "import", str(path), "--replace", "--unit", UNIT]) == 0
    assert "停用干部：干部00001（13000000001）" in capsys.readouterr().out
    assert "干部00001" not in reminded(county)


def test_file_of_another_unit_is_refused_and_nothing_written(county, tmp_path, capsys):  # noqa: F811
    before = _state(county)
    other = [r for r in county_rows(20) if r[0] == "测试县/单位02"][:1]
    path = _unit01_file(tmp_path, extra=other)
    assert main(["roster", "import", str(path), "--replace", "--unit", UNIT]) == 1
    err = capsys.readouterr().err
    assert "不属于要替换的单位 测试县/单位01（这里是 测试县/单位02）" in err
    assert _state(county) == before


def test_phone_of_a_cadre_in_another_unit_is_refused(county, tmp_path, capsys):  # noqa: F811
    before = _state(county)
    stolen = [r for r in county_rows(20) if r[3] == "13000000000"][:1]
    stolen[0][0] = UNIT  # cadre 0 belongs to 单位00
    path = _unit01_file(tmp_path, extra=stolen)
    assert main(["roster", "import", str(path), "--replace", "--unit", UNIT]) == 1
    assert "是「测试县/单位00」的干部" in capsys.readouterr().err
    assert _state(county) == before


def test_replace_needs_a_known_unit(county, tmp_path, capsys):  # noqa: F811
    path = _unit01_file(tmp_path)
    assert main(["roster", "import", str(path), "--replace"]) == 2
    assert "--replace 与 --unit 要一起用" in capsys.readouterr().err
    assert main(["roster", "import", str(path), "--replace", "--unit", "测试县/没有"]) == 2
    assert "找不到单位" in capsys.readouterr().err


def test_dry_run_needs_no_write_lock_and_a_locked_import_exits_cleanly(
    county,  # noqa: F811
    tmp_path,
    capsys,
):
    """The live bot holds the write lock: a dry run still runs; a real import says so."""
    path = _unit01_file(tmp_path)
    holder = sqlite3.connect(county.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a busy bot holds it
    try:
        args = ["roster", "import", str(path), "--replace", "--unit", UNIT]
        assert main([*args, "--dry-run"]) == 0
        assert "将结束结对 2 个" in capsys.readouterr().out
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "数据库正被占用" in err and "Traceback" not in err
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert in_digest_scope(county) == 20


def test_one_phone_under_two_units_in_a_file_is_refused(county, tmp_path, capsys):  # noqa: F811
    before = _state(county)
    twice = [r for r in county_rows(20) if r[0] == "测试县/单位02"][:1]
    twice[0][3] = "13900000099"  # the newcomer's phone, here under 单位02 as well
    path = _unit01_file(tmp_path, extra=twice)
    assert main(["roster", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "同一手机号的干部与第 5 行不一致（那里是 测试县/单位01）" in err
    assert main(["roster", "import", str(path), "--replace", "--unit", UNIT]) == 1
    assert "同一手机号的干部与第 5 行不一致" in capsys.readouterr().err
    assert _state(county) == before
    assert (
        query(county, select(func.count()).select_from(Cadre).where(Cadre.phone == "13900000099"))[
            0
        ][0]
        == 0
    )
