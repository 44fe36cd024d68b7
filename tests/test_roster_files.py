"""Roster files as county offices save them: .xlsx, CSV in UTF-8 (BOM or not) or GBK."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bench.roster_rows import county_rows
from bot.roster.files import (
    EXAMPLE_ROW,
    HEADERS,
    RosterFileError,
    read_roster,
    write_rows_csv,
    write_template,
)
from bot.roster.importer import import_roster
from core.policy import Policy
from storage.models import Cadre, Household, Unit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def write_xlsx(path, rows, *, title: str | None = None) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名册")
    if title:
        ws.append([title])
    ws.append(list(HEADERS))
    for row in rows:
        ws.append(row)
    wb.save(path)


async def test_template_round_trip_imports_its_example_row(db, tmp_path):
    path = tmp_path / "模板.xlsx"
    write_template(path)

    report = await import_roster(db, read_roster(path), policy=Policy(), now=NOW)

    assert report.ok, report.errors
    async with db.transaction() as s:
        cadre = await s.scalar(select(Cadre))
        household = await s.scalar(select(Household))
        paths = set(await s.scalars(select(Unit.path)))
    assert cadre is not None and (cadre.name, cadre.phone) == ("李明", EXAMPLE_ROW[3])
    assert household is not None and household.code == EXAMPLE_ROW[5] and household.members == 4
    assert {"博白县", "博白县/顿谷镇", "博白县/顿谷镇/旧门村", "博白县/县委办"} <= paths


async def test_xlsx_with_numeric_cells_and_a_title_line_imports(db, tmp_path):
    rows = []
    for r in county_rows(300):
        r[3] = int(r[3])  # Excel stores phones typed as numbers as numbers
        r[8] = float(r[8])  # and 人口 as 4.0
        rows.append(r)
    path = tmp_path / "r.xlsx"
    write_xlsx(path, rows, title="测试县结对帮扶名册")

    raw = read_roster(path)
    report = await import_roster(db, raw, policy=Policy(), now=NOW)

    assert raw[0].row == 3  # the title line and the header line come first
    assert report.ok, report.errors[:3]
    assert report.counts is not None and report.counts.households.created == 300
    async with db.transaction() as s:
        assert await s.scalar(select(Cadre.phone).where(Cadre.name == "干部00001")) == "13000000001"


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_encodings_read_the_same_chinese(tmp_path, encoding):
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(3), encoding=encoding)

    raw = read_roster(path)

    assert [r.cells["户主姓名"] for r in raw] == ["户主000000", "户主000001", "户主000002"]
    assert raw[0].cells["所在村"] == "测试县/镇00/村00" and raw[0].row == 2


async def test_gbk_csv_imports(db, tmp_path):
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(20), encoding="gbk")

    report = await import_roster(db, read_roster(path), policy=Policy(), now=NOW)

    assert report.ok and report.counts is not None and report.counts.cadres.created == 4


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("单位,干部姓名,职级,户主姓名,所在村,类别,人口,致贫原因,户主电话\n", "utf-8")
    with pytest.raises(RosterFileError) as info:
        read_roster(path)
    assert info.value.key == "missing_headers" and info.value.params["headers"] == "干部手机"


def test_old_xls_and_unknown_types_refused_with_a_reason(tmp_path):
    for name, key in (("r.xls", "old_xls"), ("r.pdf", "bad_suffix"), ("none.csv", "not_found")):
        path = tmp_path / name
        if name != "none.csv":
            path.write_bytes(b"x")
        with pytest.raises(RosterFileError) as info:
            read_roster(path)
        assert info.value.key == key


def test_row_errors_cover_each_rule(tmp_path):
    from bot.roster.check import check_rows

    path = tmp_path / "r.csv"
    rows = list(county_rows(5))
    rows[0][0] = ""  # 单位 empty
    rows[1][6] = "旧门村"  # village without its township and county
    rows[2][10] = "12345"  # not a phone
    rows[3][8] = "2.5"  # half a person
    rows[4][6] = "测试县//村00"  # a gap in the path
    write_rows_csv(path, rows)

    errors = check_rows(read_roster(path)).errors

    assert [(e.row, e.column, e.key) for e in errors] == [
        (2, "单位", "required"),
        (3, "所在村", "path_short"),
        (4, "户主电话", "bad_phone"),
        (5, "人口", "bad_members"),
        (6, "所在村", "path_gap"),
    ]
