"""`bangfu score FILE`: a cadre's name or a reason that looks like a formula comes out as text.

A roster is typed by people; a name such as =HYPERLINK(...) must not become a live formula
in the county's 考核 sheet (nor + - @ at the start of a reason), in .xlsx or in .csv.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli.score import write
from reminders.score import CadreScore, Indicator, parse_period

EVIL = '=HYPERLINK("http://example.invalid/x","点我")'


def scores() -> list[CadreScore]:
    period = parse_period("2026-11")
    assert period is not None
    visits = Indicator("visits", done=1, expected=2, misses=["-1 户未走访", "@张三 11月未联系"])
    return [
        CadreScore(1, EVIL, period, [visits], lapses=0, penalty=0.0, score=50.0, grade="合格"),
        CadreScore(2, "+王五", period, [Indicator("calls")], 0, 0.0, 0.0, "不合格"),
    ]


def test_formula_looking_text_is_text_in_the_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "score.xlsx"
    write(out, scores())
    sheet = load_workbook(out).active
    assert sheet is not None
    name, other = sheet["B2"], sheet["B3"]
    reasons = [c for c in sheet[2] if c.value is not None][-1]
    assert (name.value, name.data_type) == (EVIL, "s")
    assert (reasons.value, reasons.data_type) == ("-1 户未走访；@张三 11月未联系", "s")
    assert (other.value, other.data_type) == ("+王五", "s")
    assert sheet["A2"].value == 1 and sheet["C2"].value == 50.0  # numbers stay numbers


@pytest.mark.parametrize("suffix", [".csv", ".CSV"])
def test_formula_looking_text_is_quoted_in_the_csv(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"score{suffix}"
    write(out, scores())
    text = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert "'-1 户未走访" in text
    assert "2,'+王五,0.0,不合格" in text
