"""The streamed .xlsx: it opens in openpyxl with real dates, formula-looking text stays text,
control characters and XML-special characters do not break the file, and the contacts
ledger read through the driver holds the same rows as the records (scope, range, order)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from core.policy import Policy
from storage.db import Database
from tests import factories as f
from webconsole.ledger_file import Export, write_ledger
from webconsole.xlsx_stream import XlsxStream

TZ = ZoneInfo("Asia/Shanghai")
local = datetime.fromisoformat  # naive local times, as a spreadsheet holds them


def test_stream_writes_dates_text_and_survives_control_characters(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    book = XlsxStream(out)
    with book.add_sheet("表一", ["文本", "日期", "时间", "数", "空后"], [10, 12, 16, 8, 8]) as ws:
        ws.row(["=SUM(A1:A9)", date(2026, 3, 2), local("2026-03-02 08:30"), 3, None])
        ws.row(["+1", None, None, 2.5, "后"])
        ws.row(["-2", date(1999, 12, 31), None, True, ""])
        ws.row(["@cmd", None, None, None, None])
        ws.row(["a\x00b\x07c\x1fd <&> \"'", None, None, None, None])
        ws.row(["  前后空格  ", None, None, None, None])
    with book.add_sheet("表二", ["x"]) as ws2:
        ws2.row(["二"])
    book.close()

    wb = load_workbook(out)
    assert wb.sheetnames == ["表一", "表二"]
    sh = wb["表一"]
    rows = list(sh.iter_rows(values_only=True))
    assert rows[0] == ("文本", "日期", "时间", "数", "空后")
    assert rows[1][1] == local("2026-03-02")  # a real date, shown as a date
    assert sh["B2"].is_date and sh["B2"].number_format == "yyyy-mm-dd"
    assert rows[1][2] == local("2026-03-02 08:30") and sh["C2"].is_date
    assert rows[3][1] == local("1999-12-31")
    for ref, text in (("A2", "=SUM(A1:A9)"), ("A3", "+1"), ("A4", "-2"), ("A5", "@cmd")):
        assert sh[ref].value == text and sh[ref].data_type == "s"  # text, never a formula
    assert rows[1][3] == 3 and rows[2][3] == 2.5 and rows[3][3] is True
    assert rows[2][4] == "后"  # a missing cell does not shift the ones after it
    assert rows[5][0] == "abcd <&> \"'"  # control characters dropped, the rest kept
    assert rows[6][0] == "  前后空格  "
    assert list(wb["表二"].iter_rows(values_only=True)) == [("x",), ("二",)]


async def test_contacts_ledger_read_through_the_driver(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as s:
        v1 = await f.unit(s, "博白县/顿谷镇/旧门村")
        v2 = await f.unit(s, "博白县/水鸣镇/新村")
        a = await f.cadre(s, "王建国", at=v1)
        b = await f.cadre(s, "李红", at=v2)
        h1 = await f.household(s, "黄大福", village=v1)
        h2 = await f.household(s, "陈二", village=v2)
        await f.pairing(s, a, h1)
        await f.pairing(s, b, h2)
        await f.contact(s, a, h1, "visit", date(2026, 5, 9), summary="=1+1\x07响铃")
        await f.contact(
            s,
            a,
            h1,
            "call",
            date(2026, 3, 2),
            summary="<问>&答",
            help_tags=["政策上帮", "技术上帮"],
            photo_refs=["p/1.jpg", "p/2.jpg"],
        )
        await f.contact(s, b, h2, "call", date(2026, 4, 1), summary="别镇")
        await f.contact(s, a, h1, "call", date(2025, 1, 1), summary="范围外")
    today = date(2026, 6, 1)
    county = tmp_path / "county.xlsx"
    n = await write_ledger(
        db,
        Export("contacts", "博白县", date(2026, 1, 1), None),
        county,
        tz=TZ,
        today=today,
        policy=Policy(),
    )
    town = tmp_path / "town.csv"
    m = await write_ledger(
        db,
        Export("contacts", "博白县/顿谷镇", None, None),
        town,
        tz=TZ,
        today=today,
        policy=Policy(),
    )
    assert n == 3 and m == 3
    rows = list(load_workbook(county)["联系台账"].iter_rows(values_only=True))
    # by day: the range drops 2025, the order is by date
    assert [r[7] for r in rows[1:]] == [
        local("2026-03-02"),
        local("2026-04-01"),
        local("2026-05-09"),
    ]
    assert [r[1] for r in rows[1:]] == ["顿谷镇", "水鸣镇", "顿谷镇"]
    assert [r[5] for r in rows[1:]] == ["王建国", "李红", "王建国"]
    assert rows[1][6] == "电话联系" and rows[3][6] == "入户走访"
    assert rows[1][9] == "<问>&答" and rows[3][9] == "=1+1响铃"
    assert rows[1][8] == "政策上帮、技术上帮" and rows[2][8] is None  # 六帮, joined
    assert [r[11] for r in rows[1:]] == [2, 0, 0]  # photos counted
    stamp = rows[1][-2]  # 报送时间; the last column is 录入人
    assert isinstance(stamp, datetime) and stamp.tzinfo is None
    text = town.read_text(encoding="utf-8-sig")
    assert "别镇" not in text and "范围外" in text and "'=1+1" in text
    assert "政策上帮、技术上帮,<问>&答,,2," in text
