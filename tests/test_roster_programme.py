"""保康's roster columns: 是否党员, 出生日期, 入党日期 and a 类别 list, read by `bangfu roster
import`, feeding the birthday / 入党纪念日 duties; bad values named by row and column with
nothing written; the 五联 quota (each leader one household of each category) reported."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.config import ConfigError, load_settings
from bot.roster.files import HEADERS
from core.policy import Policy
from core.programme import OccasionPolicy
from reminders.duties import staged_duties
from storage.db import Database
from storage.models import Cadre, Household
from tests.test_cli_admin import admin_db, query  # noqa: F401  (fixture)

HEAD = ",".join(HEADERS[:11]) + ",是否党员,出生日期,入党日期"
LEADER = "保康县/县委办,王书记,县级,13800000001"
CADRE = "保康县/马桥镇,李干部,一般干部,13800000002"
VILLAGE = "保康县/马桥镇/堰垭村"


def line(
    cadre: str, head: str, tags: str, party: str = "", born: str = "", joined: str = ""
) -> str:
    return f"{cadre},{head},,{VILLAGE},{tags},3,,,{party},{born},{joined}"


def write(tmp_path, lines: list[str]):  # type: ignore[no-untyped-def]
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([HEAD, *lines]) + "\n", encoding="utf-8")
    return path


def test_party_columns_and_category_list_are_stored_and_feed_the_birthday_duty(
    admin_db,  # noqa: F811
    tmp_path,
    capsys,
):
    path = write(
        tmp_path,
        [
            line(LEADER, "张三", "贫困户", "是", "1960-03-15", "1985年7月1日"),
            line(LEADER, "李四", "困难学生、低保户", "", "2010/9/1"),
            line(CADRE, "王五", "党员", "", "", "1990.07.10"),  # a 入党日期 makes a member
        ],
    )
    assert main(["roster", "import", str(path)]) == 0
    rows = {
        r[0]: r[1:]
        for r in query(
            admin_db,
            select(
                Household.head_name,
                Household.party_member,
                Household.birth_date,
                Household.party_date,
                Household.category,
                Household.tags,
            ),
        )
    }
    assert rows["张三"] == (True, date(1960, 3, 15), date(1985, 7, 1), "贫困户", ["贫困户"])
    assert rows["李四"] == (False, date(2010, 9, 1), None, "困难学生", ["困难学生", "低保户"])
    assert rows["王五"][:3] == (True, None, date(1990, 7, 10))

    async def duties():  # type: ignore[no-untyped-def]
        db = Database(admin_db)
        policy = Policy(
            festivals=[],
            farming_seasons=[],
            occasions=OccasionPolicy(birthday=True, party_anniversary=True),
        )
        try:
            async with db.sessions() as s:
                march = await staged_duties(s, date(2027, 3, 8), policy)
                july = await staged_duties(s, date(2027, 7, 3), policy)
            return march, july
        finally:
            await db.dispose()

    march, july = asyncio.run(duties())
    assert [(d.kind, d.pairing.head_name, d.due_on) for d in march if d.kind == "birthday"] == [
        ("birthday", "张三", date(2027, 3, 22))
    ]  # 李四 is no party member: no birthday duty
    # 王五's 入党纪念日 (10 July) is a duty a week ahead, fulfilled by a visit up to a week after.
    assert ("王五", date(2027, 7, 17)) in {
        (d.pairing.head_name, d.due_on) for d in july if d.kind != "birthday"
    }


def test_bad_values_are_named_by_row_and_column_and_nothing_is_written(
    admin_db,  # noqa: F811
    tmp_path,
    capsys,
    monkeypatch,
):
    monkeypatch.setenv("BANGFU_POLICY__CATEGORIES__ALLOWED", '["贫困户","困难学生","党员"]')
    path = write(
        tmp_path,
        [
            line(LEADER, "张三", "贫困户", "也许"),
            line(LEADER, "李四", "困难学生", "", "1960-02-30"),
            line(LEADER, "王五", "贫困户", "否", "", "1985-07-01"),
            line(LEADER, "赵六", "五保户"),
            line(LEADER, "钱七", "党员", "是", "2090-01-01"),
        ],
    )
    assert main(["roster", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "第 2 行【是否党员】请填「是」或「否」：也许" in err
    assert "第 3 行【出生日期】不是有效日期：1960-02-30" in err
    assert "第 4 行【入党日期】填了入党日期 1985-07-01，但【是否党员】为「否」" in err
    assert "第 5 行【类别】不是本县的类别：五保户（可用：贫困户、困难学生、党员）" in err
    assert "第 6 行【出生日期】日期不合理：2090-01-01" in err
    assert "未写入任何数据" in err
    assert query(admin_db, select(func.count()).select_from(Household))[0][0] == 0
    assert query(admin_db, select(func.count()).select_from(Cadre))[0][0] == 0


def test_baokang_quota_names_the_leader_and_the_category_missing_or_twice(
    admin_db,  # noqa: F811
    tmp_path,
    capsys,
    monkeypatch,
):
    monkeypatch.setenv("BANGFU_POLICY__CATEGORIES__QUOTA_PRESET", "保康")
    keeper = "保康县/县政府,陈县长,县级,13800000003"
    path = write(
        tmp_path,
        [
            line(LEADER, "张三", "贫困户"),
            line(LEADER, "李四", "产业大户、党员"),
            line(LEADER, "王五", "龙头企业"),
            line(LEADER, "赵六", "产业大户"),
            line(CADRE, "钱七", "诉求群众"),  # an ordinary cadre: no category quota
            *(
                line(keeper, head, tag)
                for head, tag in (
                    ("孙一", "贫困户"),
                    ("孙二", "党员"),
                    ("孙三", "产业大户"),
                    ("孙四", "龙头企业"),
                    ("孙五", "诉求群众"),
                )
            ),
        ],
    )
    assert main(["roster", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "按「保康」五联标准（每名领导各联 贫困户、党员、产业大户、龙头企业、诉求群众 一户）：1 名领导不符合"
        in out
    )
    assert "王书记（县级，13800000001，保康县/县委办）缺：诉求群众；重复：产业大户" in out
    section = out.split("五联标准", 1)[1].split("每一户", 1)[0]
    assert "陈县长" not in section and "李干部" not in section


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("BANGFU_POLICY__CATEGORIES__QUOTA_PRESET", "宝康", "unknown category quota preset"),
        ("BANGFU_POLICY__CATEGORIES__QUOTA", "[]", "non-empty list"),
    ],
)
def test_a_wrong_category_setting_stops_start_up_naming_it(
    monkeypatch, tmp_path, var, value, named
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert "配置错误" in message and "BANGFU_POLICY__CATEGORIES" in message and named in message
