"""Invitation sheets: one row (.xlsx) or card (.html, for printing) per cadre, with a QR code.

The QR code holds the Telegram deep link that binds the cadre when opened on a phone.
"""

from __future__ import annotations

import base64
import html
import io
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.i18n import t

SUFFIXES = (".xlsx", ".html", ".htm")
QR_SCALE = 3  # pixels per module: a 33-module link prints at about 2 cm, scans on a phone


@dataclass(frozen=True, slots=True)
class SheetRow:
    name: str
    unit: str
    phone: str
    code: str
    link: str  # the deep link; empty when no Telegram bot name is configured


def qr_png(data: str) -> bytes:
    """The QR code of `data` as a small 1-bit PNG, with its quiet zone.

    zxing-cpp encodes in C++, where a pure-Python encoder (segno) spends 7 times as long
    choosing masks; the PNG is packed here directly, at half the cost of going through PIL.
    """
    import numpy
    import zxingcpp

    code = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    pixels = numpy.asarray(code.to_image(scale=QR_SCALE, add_quiet_zones=True))
    return _png_1bit(numpy.packbits(pixels > 127, axis=1), pixels.shape[1])


def _png_1bit(rows: Any, width: int) -> bytes:
    """A greyscale 1-bit PNG from packed rows (1 = white): signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, len(rows), 1, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)  # filter type 0 per row
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def qr_data_uri(data: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(data)).decode("ascii")


def headers(lang: str = "zh") -> list[str]:
    return [
        t(f"invite_sheet.col_{c}", lang) for c in ("name", "unit", "phone", "code", "link", "qr")
    ]


def write_sheet(path: Path, rows: Sequence[SheetRow], *, expires: str) -> None:
    """Write the sheet in the format its suffix names (.xlsx or .html)."""
    if path.suffix.lower() == ".xlsx":
        _write_xlsx(path, rows)
    else:
        _write_html(path, rows, expires=expires)


def _write_xlsx(path: Path, rows: Sequence[SheetRow]) -> None:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = t("invite_sheet.title", "zh")[:31]
    ws.append(headers())
    for letter, width in zip("ABCDEF", (10, 28, 14, 14, 44, 14), strict=True):
        ws.column_dimensions[letter].width = width
    for number, row in enumerate(rows, start=2):
        ws.append([row.name, row.unit, row.phone, row.code, row.link])
        ws.cell(number, 3).number_format = "@"  # phones stay text, never 1.38E+10
        if row.link:
            image = Image(io.BytesIO(qr_png(row.link)))
            ws.add_image(image, f"F{number}")
            ws.row_dimensions[number].height = image.height * 0.75 + 4  # points from pixels
    ws.freeze_panes = "A2"
    wb.save(path)


PAGE_CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 0; }
.cards { display: flex; flex-wrap: wrap; }
.card { box-sizing: border-box; width: 50%; padding: 4mm; border: 1px dashed #999;
        break-inside: avoid; page-break-inside: avoid; display: flex; gap: 4mm; }
.card h2 { font-size: 14pt; margin: 0 0 2mm; }
.card p { margin: 0 0 1mm; font-size: 10pt; }
.code { font-family: monospace; font-size: 16pt; letter-spacing: 1px; }
@media print { .note { display: none; } }
"""


def _write_html(path: Path, rows: Sequence[SheetRow], *, expires: str) -> None:
    """Cards two to a row, cut along the dashed lines; the QR codes are inline SVG."""
    esc = html.escape
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">')
        fh.write(f"<title>{esc(t('invite_sheet.title', 'zh'))}</title>")
        fh.write(f"<style>{PAGE_CSS}</style></head><body>\n")
        fh.write(f'<p class="note">{esc(t("invite_sheet.note", "zh", count=len(rows)))}</p>\n')
        fh.write('<div class="cards">\n')
        for row in rows:
            fh.write(_card(row, expires=expires))
        fh.write("</div></body></html>\n")


def _card(row: SheetRow, *, expires: str) -> str:
    esc = html.escape
    qr = f'<img class="qr" alt="QR" src="{qr_data_uri(row.link)}">' if row.link else ""
    how = t("invite_sheet.how_link" if row.link else "invite_sheet.how_code", "zh", code=row.code)
    return (
        f'<div class="card" data-phone="{esc(row.phone)}">{qr}<div>'
        f"<h2>{esc(row.name)}</h2><p>{esc(row.unit)}</p><p>{esc(row.phone)}</p>"
        f'<p>{esc(t("invite_sheet.code", "zh"))}<span class="code">{esc(row.code)}</span></p>'
        f"<p>{esc(how)}</p>"
        f"<p>{esc(t('invite_sheet.expires', 'zh', at=expires))}</p>"
        "</div></div>\n"
    )
