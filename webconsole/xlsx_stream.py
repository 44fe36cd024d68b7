"""A small streaming .xlsx writer: sheet XML written straight into a zip stream.

Only what ledgers need: inline strings (so no shared-string table in memory, and a text
cell is never a formula whatever it begins with), numbers, booleans, real Excel dates
(date and date-time styles), a frozen header row and column widths. XML-special characters
are escaped and control characters that XML 1.0 forbids are dropped.
"""

from __future__ import annotations

import re
import zipfile
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any


def _xml_escape(s: str) -> str:
    """&, < and > as entities, as xml.sax.saxutils.escape does (whose import pulls in
    urllib.request and http.client: a twentieth of `bangfu export`'s start)."""
    return s.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


_EPOCH = date(1899, 12, 30)  # Excel's day 0 (1900 date system, past the leap-year bug)
_EPOCH_ORD = _EPOCH.toordinal()
_NEEDS_CARE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FLUSH_ROWS = 2000
DAY_STYLE = 1
STAMP_STYLE = 2

_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def column_letter(i: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


def clean_text(s: str) -> str:
    """XML-escaped, without the control characters XML 1.0 cannot hold."""
    if _NEEDS_CARE.search(s) is None:
        return s
    return _xml_escape(_ILLEGAL.sub("", s))


def day_serial(d: date) -> int:
    return d.toordinal() - _EPOCH_ORD


def stamp_serial(t: datetime) -> float:
    """A naive (local) datetime as an Excel serial, to the second."""
    return t.toordinal() - _EPOCH_ORD + (t.hour * 3600 + t.minute * 60 + t.second) / 86400


class SheetWriter:
    """Rows of one sheet; row 1 is the header row."""

    def __init__(self, fh: IO[bytes], ncols: int) -> None:
        self._fh = fh
        self._opens: list[str] = []  # '<c r="A', '<c r="B', ...: a cell's start, by column
        self._widen(max(ncols, 1))
        self._buf: list[str] = []
        self._n = 0
        self._days: dict[date, str] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx")
        self._pending: deque[Future[int]] = deque()

    def _widen(self, ncols: int) -> None:
        self._opens += [f'<c r="{column_letter(i)}' for i in range(len(self._opens), ncols)]

    def row(self, values: Iterable[Any]) -> None:
        # The hot loop of every export (2M rows for a county's year): one f-string a cell,
        # the cell's column start prepared once, no helper calls for the common types.
        self._n += 1
        n = str(self._n)
        if not isinstance(values, list | tuple):
            values = list(values)
        if len(values) > len(self._opens):
            self._widen(len(values))
        opens = self._opens
        days = self._days
        care = _NEEDS_CARE.search
        out = [f'<row r="{n}">']
        add = out.append
        for i, v in enumerate(values):
            kind = type(v)
            if kind is str:
                if v:
                    if care(v) is not None:
                        v = _xml_escape(_ILLEGAL.sub("", v))
                    add(
                        f'{opens[i]}{n}" t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>'
                    )
            elif v is None:
                continue
            elif kind is datetime:
                serial = (
                    v.toordinal() - _EPOCH_ORD + (v.hour * 3600 + v.minute * 60 + v.second) / 86400
                )
                add(f'{opens[i]}{n}" s="{STAMP_STYLE}"><v>{serial!r}</v></c>')
            elif kind is date:
                d = days.get(v)
                if d is None:
                    d = days[v] = str(day_serial(v))
                add(f'{opens[i]}{n}" s="{DAY_STYLE}"><v>{d}</v></c>')
            elif kind is int or kind is float:
                if v == v and v not in (float("inf"), float("-inf")):
                    add(f'{opens[i]}{n}"><v>{v!r}</v></c>')
            elif kind is bool:
                add(f'{opens[i]}{n}" t="b"><v>{int(v)}</v></c>')
            else:
                text = clean_text(str(v))
                if text:
                    add(
                        f'{opens[i]}{n}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
                    )
        add("</row>")
        self._buf.append("".join(out))
        if len(self._buf) >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            data = "".join(self._buf).encode("utf-8", "replace")
            self._buf.clear()
            # Deflate releases the GIL: compress in one helper thread (in order) while the
            # next rows are built; at most two chunks wait, so memory stays flat.
            if len(self._pending) >= 2:
                self._pending.popleft().result()
            self._pending.append(self._pool.submit(self._fh.write, data))

    def finish(self) -> None:
        self.flush()
        while self._pending:
            self._pending.popleft().result()
        self._pool.shutdown()

    @property
    def rows(self) -> int:
        return self._n


class XlsxStream:
    """A workbook written sheet by sheet; only one sheet's current batch is in memory."""

    def __init__(self, target: Path | str) -> None:
        # Level 1 deflate: most of the size gain of the default at a fraction of its time.
        self._zip = zipfile.ZipFile(
            target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True
        )
        self._names: list[str] = []

    def add_sheet(
        self, name: str, headers: list[str], widths: list[float] | None = None
    ) -> _SheetContext:
        self._names.append(name)
        return _SheetContext(self, len(self._names), headers, widths)

    def close(self) -> None:
        z = self._zip
        sheets = range(1, len(self._names) + 1)
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in sheets
            )
            + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            "<sheets>"
            + "".join(
                f'<sheet name="{clean_text(name)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, name in enumerate(self._names, 1)
            )
            + "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
                f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in sheets
            )
            + f'<Relationship Id="rId{len(self._names) + 1}" Type="http://schemas.openxmlformats'
            '.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            "</Relationships>",
        )
        z.writestr("xl/styles.xml", _STYLES)
        z.close()


class _SheetContext:
    def __init__(
        self, book: XlsxStream, index: int, headers: list[str], widths: list[float] | None
    ) -> None:
        self._book = book
        self._index = index
        self._headers = headers
        self._widths = widths
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> SheetWriter:
        self._fh = self._book._zip.open(
            f"xl/worksheets/sheet{self._index}.xml", "w", force_zip64=True
        )
        cols = ""
        if self._widths:
            cols = (
                "<cols>"
                + "".join(
                    f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                    for i, w in enumerate(self._widths, 1)
                )
                + "</cols>"
            )
        self._fh.write(
            (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheetViews><sheetView workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                "</sheetView></sheetViews>"
                f'<sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>'
            ).encode()
        )
        self._writer = SheetWriter(self._fh, len(self._headers))
        self._writer.row(self._headers)
        return self._writer

    def __exit__(self, *exc: object) -> None:
        assert self._fh is not None
        self._writer.finish()
        self._fh.write(b"</sheetData></worksheet>")
        self._fh.close()
