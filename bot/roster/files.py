"""Reading roster files (.xlsx, .csv in UTF-8 or GBK) into raw rows, and writing the template."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

HEADERS = (
    "单位",
    "干部姓名",
    "职级",
    "干部手机",
    "户主姓名",
    "户编号",
    "所在村",
    "类别",
    "人口",
    "致贫原因",
    "户主电话",
    "是否党员",
    "出生日期",
    "入党日期",
    "户状态",
    "状态日期",
)
# 户状态: 脱贫 / 监测户 / 已消除风险 / 退出, since 状态日期 (default: the day of the import).
# 保康's party-member occasions; 类别 may list several of its 五联 categories (困难学生、党员).
OPTIONAL_HEADERS = ("户编号", "是否党员", "出生日期", "入党日期", "户状态", "状态日期")
EXAMPLE_ROW = (
    "博白县/县委办",
    "李明",
    "正科",
    "13800138000",
    "张三",
    "450923-0001",
    "博白县/顿谷镇/旧门村",
    "贫困户",
    4,
    "因病",
    "13900139000",
    "否",
    "1968-05-12",
    "",
    "",
    "",
)
HEADER_SEARCH_ROWS = 10  # a title line or two may sit above the header row
# An .xlsx is a zip: refuse, before opening it, one that would unpack out of proportion.
MAX_UNPACKED = 400 * 1024 * 1024  # a 100,000-row roster unpacks to well under this
MAX_RATIO = 100  # ordinary spreadsheets compress 5-20 times; a zip bomb, thousands


@dataclass(frozen=True, slots=True)
class RawRow:
    """One line as read: its line number in the file and its cells by header."""

    row: int
    cells: dict[str, str]


@dataclass
class RosterFileError(Exception):
    """The file as a whole cannot be read; `key` names a text in the roster_file section."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


def cell_text(value: Any) -> str:
    """A cell as text: 13800138000.0 → '13800138000', a date → '2026-11-23'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value).strip()


def _rows_from(
    lines: Iterable[tuple[int, list[Any]]], progress: Callable[[int], None] | None
) -> list[RawRow]:
    """Find the header line, then map each non-blank line to its cells by header."""
    it: Iterator[tuple[int, list[Any]]] = iter(lines)
    header: list[str] | None = None
    for number, values in it:
        texts = [cell_text(v) for v in values]
        if "干部姓名" in texts or "干部手机" in texts:
            header = texts
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        raise RosterFileError("no_header", {"headers": "、".join(HEADERS)})
    twice = sorted({h for h in header if h in HEADERS and header.count(h) > 1})
    if twice:
        # Which of the two columns is meant cannot be guessed; silently using one loses data.
        raise RosterFileError("duplicate_headers", {"headers": "、".join(twice)})
    missing = [h for h in HEADERS if h not in header and h not in OPTIONAL_HEADERS]
    if missing:
        raise RosterFileError("missing_headers", {"headers": "、".join(missing)})
    columns = [(i, h) for i, h in enumerate(header) if h in HEADERS]
    out: list[RawRow] = []
    for number, values in it:
        texts = [cell_text(v) for v in values]
        if not any(texts):
            continue  # spreadsheets often carry formatted but empty lines
        cells = {h: (texts[i] if i < len(texts) else "") for i, h in columns}
        out.append(RawRow(number, cells))
        if progress and len(out) % 5000 == 0:
            progress(len(out))
    if not out:
        raise RosterFileError("empty")
    return out


def check_unpacked_size(path: Path) -> None:
    """Refuse an .xlsx whose parts would unpack to far more than its size on disk allows."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise RosterFileError("bad_xlsx", {"error": type(exc).__name__}) from None
    packed = max(path.stat().st_size, 1)
    if unpacked > MAX_UNPACKED or (unpacked > 10 * 1024 * 1024 and unpacked / packed > MAX_RATIO):
        mb = unpacked // (1024 * 1024)
        raise RosterFileError("too_big", {"mb": mb, "packed": max(packed // 1024, 1)})


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    check_unpacked_size(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise RosterFileError("bad_xlsx", {"error": type(exc).__name__}) from None
    try:
        ws = wb.worksheets[0]
        # Read-only mode trusts the sheet's <dimension>, which some programs leave stale:
        # forget it and read every row that is really there.
        ws.reset_dimensions()  # type: ignore[union-attr]
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, list(values)
    finally:
        wb.close()


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, what Excel saves)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise RosterFileError("bad_encoding") from None


def _csv_lines(path: Path) -> Iterator[tuple[int, list[Any]]]:
    text = decode_csv(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for values in reader:
        yield reader.line_num, values


def read_roster(path: Path, progress: Callable[[int], None] | None = None) -> list[RawRow]:
    """All data lines of a roster file; raises RosterFileError for an unreadable file."""
    if not path.is_file():
        raise RosterFileError("not_found", {"path": str(path)})
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _rows_from(_xlsx_lines(path), progress)
    if suffix in (".csv", ".txt"):
        return _rows_from(_csv_lines(path), progress)
    if suffix == ".xls":
        raise RosterFileError("old_xls")
    raise RosterFileError("bad_suffix", {"suffix": suffix or "?"})


def write_template(path: Path) -> None:
    """An .xlsx with the headers, one example row, and phone/code columns stored as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "名册"
    ws.append(list(HEADERS))
    ws.append(list(EXAMPLE_ROW))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for col, header in enumerate(HEADERS, start=1):
        letter = ws.cell(1, col).column_letter
        ws.column_dimensions[letter].width = 24 if header in ("单位", "所在村") else 14
        if header in ("干部手机", "户主电话", "户编号", "出生日期", "入党日期", "状态日期"):
            # Text format, so Excel keeps leading zeros and does not show 1.38E+10.
            for row in range(2, 1001):
                ws.cell(row, col).number_format = "@"
    ws.freeze_panes = "A2"
    wb.save(path)


def write_rows_csv(path: Path, rows: Iterable[Iterable[Any]], *, encoding: str = "utf-8") -> None:
    """A roster as CSV with the standard headers (tests, exports)."""
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
