"""Roster files read for what they really hold, and refused before opening when absurd."""

from __future__ import annotations

import re
import zipfile

import pytest
from openpyxl import Workbook

from bench.roster_rows import county_rows
from bot.cli import main
from bot.roster.files import HEADERS, RosterFileError, read_roster, write_rows_csv
from tests.test_cli_admin import admin_db  # noqa: F401 (fixture)


def _xlsx(path, rows) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    ws.append(list(HEADERS))
    for row in rows:
        ws.append(row)
    wb.save(path)


def _rewrite(path, name: str, change) -> None:  # type: ignore[no-untyped-def]
    """Rewrite one part of the .xlsx zip, as another program might have saved it."""
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    parts[name] = change(parts[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, data in parts.items():
            zf.writestr(part, data)


def test_stale_dimension_still_reads_every_row(admin_db, tmp_path, capsys):  # noqa: F811
    path = tmp_path / "stale.xlsx"
    _xlsx(path, county_rows(10))
    _rewrite(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:K3"', xml),
    )
    assert len(read_roster(path)) == 10
    assert main(["roster", "import", str(path)]) == 0
    assert "导入完成：共 10 行" in capsys.readouterr().out


def test_an_xlsx_that_unpacks_out_of_proportion_is_refused_unopened(tmp_path):
    path = tmp_path / "bomb.xlsx"
    _xlsx(path, county_rows(2))
    # 40 MB of padding in one part: a few dozen KB on disk.
    _rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: xml + b" " * (40 * 1024 * 1024))
    with pytest.raises(RosterFileError) as err:
        read_roster(path)
    assert err.value.key == "too_big" and err.value.params["mb"] >= 40


def test_duplicate_headers_are_refused(admin_db, tmp_path, capsys):  # noqa: F811
    path = tmp_path / "dup.csv"
    write_rows_csv(path, county_rows(3))
    text = path.read_text(encoding="utf-8").splitlines()
    text[0] += ",干部手机"
    text[1:] = [line + ",13999999999" for line in text[1:]]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert main(["roster", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "表头重复：干部手机 出现了两次" in err
