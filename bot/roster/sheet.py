"""Invitation sheets: one row (.xlsx) or card (.html, .pdf for printing) per cadre, with a QR code.

The QR code holds the Telegram deep link that binds the cadre when opened on a phone.
A county's sheet (50,000 cadres) is written in well under a minute: the QR codes come from
bot.roster.cards, and the workbook is streamed by XlsxWriter row by row.
"""

from __future__ import annotations

import base64
import html
import io
import struct
from collections.abc import Sequence
from pathlib import Path

from bot.roster.cards import SheetRow, qr_pngs
from core.i18n import t

__all__ = ["SUFFIXES", "SheetRow", "headers", "write_sheet"]

SUFFIXES = (".xlsx", ".html", ".htm", ".pdf")


def headers(lang: str = "zh") -> list[str]:
    return [
        t(f"invite_sheet.col_{c}", lang) for c in ("name", "unit", "phone", "code", "link", "qr")
    ]


def write_sheet(path: Path, rows: Sequence[SheetRow], *, expires: str) -> None:
    """Write the sheet in the format its suffix names (.xlsx, .pdf or .html)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _write_xlsx(path, rows)
    elif suffix == ".pdf":
        from bot.roster.sheet_pdf import write_pdf

        write_pdf(path, rows, expires=expires)
    else:
        _write_html(path, rows, expires=expires)


def _write_xlsx(path: Path, rows: Sequence[SheetRow]) -> None:
    """Streamed row by row (XlsxWriter's constant-memory mode), a QR image per row."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        ws = wb.add_worksheet(t("invite_sheet.title", "zh")[:31])
        text = wb.add_format({"num_format": "@"})  # phones stay text, never 1.38E+10
        ws.write_row(0, 0, headers())
        for col, width in enumerate((10, 28, 14, 14, 44, 18)):  # 18 characters: 131 pixels
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 0)
        for number, (row, png) in enumerate(
            zip(rows, qr_pngs([r.link for r in rows]), strict=True), start=1
        ):
            if png:
                side = struct.unpack(">I", png[16:20])[0]  # IHDR width, pixels
                ws.set_row(number, side * 0.75 + 4)  # points from pixels
            ws.write_string(number, 0, row.name)
            ws.write_string(number, 1, row.unit)
            ws.write_string(number, 2, row.phone, text)
            ws.write_string(number, 3, row.code)
            ws.write_string(number, 4, row.link)
            if png:
                ws.insert_image(
                    number,
                    5,
                    f"qr{number}.png",
                    {"image_data": io.BytesIO(png), "x_offset": 2, "description": row.link},
                )
    finally:
        # The rows went to a temporary file as they were written; the parts are zipped from
        # memory, not as one temporary file per image (50,000 file creations on a slow /tmp).
        wb.in_memory = True
        wb.close()


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
    """Cards two to a row, cut along the dashed lines; the QR codes are inline PNG data URIs."""
    esc = html.escape
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">')
        fh.write(f"<title>{esc(t('invite_sheet.title', 'zh'))}</title>")
        fh.write(f"<style>{PAGE_CSS}</style></head><body>\n")
        fh.write(f'<p class="note">{esc(t("invite_sheet.note", "zh", count=len(rows)))}</p>\n')
        fh.write('<div class="cards">\n')
        for row, png in zip(rows, qr_pngs([r.link for r in rows]), strict=True):
            fh.write(_card(row, png, expires=expires))
        fh.write("</div></body></html>\n")


def _card(row: SheetRow, png: bytes, *, expires: str) -> str:
    esc = html.escape
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    qr = f'<img class="qr" alt="QR" src="{uri}">' if png else ""
    how = t("invite_sheet.how_link" if row.link else "invite_sheet.how_code", "zh", code=row.code)
    return (
        f'<div class="card" data-phone="{esc(row.phone)}">{qr}<div>'
        f"<h2>{esc(row.name)}</h2><p>{esc(row.unit)}</p><p>{esc(row.phone)}</p>"
        f'<p>{esc(t("invite_sheet.code", "zh"))}<span class="code">{esc(row.code)}</span></p>'
        f"<p>{esc(how)}</p>"
        f"<p>{esc(t('invite_sheet.expires', 'zh', at=expires))}</p>"
        "</div></div>\n"
    )
