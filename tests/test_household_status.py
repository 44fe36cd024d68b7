"""A household's status — 脱贫 / 监测户 / 已消除风险 / 退出 with its date — set by `bangfu
household status` or by the roster's 户状态 column. 退出 takes the household out of reminders
and coverage while its records stay; a later roster without the column keeps the status."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.cli import main
from bot.roster.files import HEADERS
from storage.models import AuditLog, Household, Pairing
from tests.test_cli_admin import query
from tests.test_roster_changes import admin_db, county, in_digest_scope, reminded  # noqa: F401


def standing(url: str, code: str) -> tuple[str, str | None, date | None]:
    stmt = select(Household.status, Household.poverty_status, Household.status_date).where(
        Household.code == code
    )
    return tuple(query(url, stmt)[0])  # type: ignore[return-value]


def test_status_with_its_date_then_exit_drops_the_household_from_duties(county, capsys):  # noqa: F811
    assert main(["household", "status", "--id", "H000007", "--status", "监测户",
                 "--date", "2026-10-01"]) == 0  # fmt: skip
    assert "户主000007 户状态：监测户（2026-10-01 起）" in capsys.readouterr().out
    assert standing(county, "H000007") == ("active", "监测户", date(2026, 10, 1))
    assert "户主000007" in reminded(county)["干部00001"]  # a monitored household keeps its duties

    assert main(["household", "status", "--id", "H000007", "--status", "退出"]) == 0
    assert "户主000007 户已退出（退出），结束结对 1 个" in capsys.readouterr().out
    assert standing(county, "H000007") == ("exited", "退出", date(2026, 11, 10))
    assert "户主000007" not in reminded(county)["干部00001"]
    assert in_digest_scope(county) == 19
    # The pairing is ended, not deleted: the history stays.
    ended = query(county, select(Pairing.active, Pairing.end_date, Pairing.end_reason).join(
        Household, Household.id == Pairing.household_id).where(Household.code == "H000007"))  # fmt: skip
    assert [tuple(r) for r in ended] == [(False, date(2026, 11, 10), "户退出")]
    actions = [a for (a,) in query(county, select(AuditLog.action))]
    assert actions.count("household.status") == 1 and actions.count("household.exit") == 1


def test_a_wrong_status_or_date_is_refused_and_changes_nothing(county, capsys):  # noqa: F811
    assert main(["household", "status", "--id", "H000003", "--status", "脱了贫"]) == 2
    assert (
        "户状态写得不对：脱了贫（可用：脱贫、监测户、已消除风险、退出）" in capsys.readouterr().err
    )
    assert main(["household", "status", "--id", "H000003", "--status", "脱贫",
                 "--date", "2027-01-01"]) == 2  # fmt: skip
    capsys.readouterr()
    assert standing(county, "H000003") == ("active", None, None)


HEAD = ",".join(HEADERS)


def row(head: str, code: str, status: str = "", since: str = "") -> str:
    return (
        f"测试县/县委办,李干部,正科,13800000002,{head},{code},测试县/镇00/村00,贫困户,3,,,"
        f",,,{status},{since}"
    )


def test_roster_column_sets_status_and_a_later_roster_without_it_keeps_it(
    admin_db,  # noqa: F811
    tmp_path,
    capsys,
):
    path = tmp_path / "r.csv"
    path.write_text(
        "\n".join([HEAD, row("张三", "A1", "脱贫", "2020-12-31"), row("李四", "A2", "监测户"),
                   row("王五", "A3", "退出", "2026-06-30"), row("赵六", "A4")]),
        encoding="utf-8",
    )  # fmt: skip
    assert main(["roster", "import", str(path)]) == 0
    assert standing(admin_db, "A1") == ("active", "脱贫", date(2020, 12, 31))
    assert standing(admin_db, "A2")[:2] == ("active", "监测户")  # since the import's day
    assert standing(admin_db, "A3") == ("exited", "退出", date(2026, 6, 30))
    assert standing(admin_db, "A4") == ("active", None, None)

    path.write_text(
        "\n".join([HEAD, row("张三", "A1"), row("李四", "A2", "已消除风险", "2026-09-01")]),
        encoding="utf-8",
    )
    assert main(["roster", "import", str(path)]) == 0
    assert standing(admin_db, "A1") == ("active", "脱贫", date(2020, 12, 31))
    assert standing(admin_db, "A2") == ("active", "已消除风险", date(2026, 9, 1))

    path.write_text(
        "\n".join([HEAD, row("张三", "A1", "返贫"), row("李四", "A2", "", "2026-09-01")]),
        encoding="utf-8",
    )
    assert main(["roster", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "第 2 行【户状态】户状态只能是 脱贫、监测户、已消除风险、退出：返贫" in err
    assert "第 3 行【状态日期】填了状态日期 2026-09-01，但【户状态】是空的" in err
    assert standing(admin_db, "A1") == ("active", "脱贫", date(2020, 12, 31))
