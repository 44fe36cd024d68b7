"""Invitation cards as a PDF for printing: ten cards to an A4 page, cut along the dashed lines.

Chinese text is set in reportlab's built-in CID font STSong-Light (Adobe-GB1): a PDF reader
supplies the glyphs, so no font file ships with bangfu and none is needed on the server.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

from bot.roster.cards import SheetRow, qr_pngs
from core.i18n import t

FONT = "STSong-Light"
MONO = "Courier"
COLUMNS, ROWS = 2, 5
MARGIN = 28.0  # points (about 1 cm)
QR_SIDE = 96.0  # points (about 34 mm): a phone reads it from arm's length


def write_pdf(path: Path, rows: Sequence[SheetRow], *, expires: str) -> None:
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    rl_config.useA85 = 0  # binary image streams: ASCII85 in pure Python costs 1 ms a card
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    page_w, page_h = A4
    card_w = (page_w - 2 * MARGIN) / COLUMNS
    card_h = (page_h - 2 * MARGIN) / ROWS
    canvas = Canvas(str(path), pagesize=A4, pageCompression=1)
    canvas.setTitle(t("invite_sheet.title", "zh"))
    canvas.setCreator("bangfu")
    per_page = COLUMNS * ROWS
    for index, (row, png) in enumerate(zip(rows, qr_pngs([r.link for r in rows]), strict=True)):
        slot = index % per_page
        if slot == 0:
            if index:
                canvas.showPage()
            canvas.setDash(3, 3)  # the cutting lines; a new page starts from the defaults
            canvas.setLineWidth(0.5)
            canvas.setStrokeGray(0.6)
        x = MARGIN + (slot % COLUMNS) * card_w
        y = page_h - MARGIN - (slot // COLUMNS + 1) * card_h
        canvas.rect(x, y, card_w, card_h)
        _card(canvas, row, png, x, y, card_w, card_h, expires=expires, reader=ImageReader)
    canvas.save()


def _card(
    canvas: object,
    row: SheetRow,
    png: bytes,
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    expires: str,
    reader: type,
) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    c = canvas  # reportlab's Canvas; typed loosely to keep reportlab out of import time
    pad = 8.0
    top = y + h - pad
    text_x = x + pad
    if png:
        from PIL import Image

        # Greyscale, not reportlab's RGB for a 1-bit PNG: a third of the bytes to compress.
        # Built from the PNG's rows, not Image.open: opening a file first imports Pillow's
        # format plugins (BMP, GIF, JPEG, PPM, PNG), a tenth of the PDF sheet's start.
        qr = Image.frombytes("1", *png_rows(png)).convert("L")
        c.drawImage(reader(qr), x + pad, top - QR_SIDE, QR_SIDE, QR_SIDE)  # type: ignore[attr-defined]
        text_x = x + pad + QR_SIDE + pad
    width = x + w - pad - text_x
    lines: list[tuple[str, float, str]] = [
        (FONT, 14, row.name),
        (FONT, 9, row.unit),
        (FONT, 10, row.phone),
        (FONT, 9, t("invite_sheet.code", "zh")),
        (MONO, 13, row.code),
        (FONT, 7.5, t(f"invite_sheet.how_{'link' if row.link else 'code'}", "zh", code=row.code)),
        (FONT, 7.5, t("invite_sheet.expires", "zh", at=expires)),
    ]
    cursor = top
    for font, size, text in lines:
        for part in _wrap(text, font, size, width, stringWidth):
            cursor -= size + 2.5
            c.setFont(font, size)  # type: ignore[attr-defined]
            c.drawString(text_x, cursor, part)  # type: ignore[attr-defined]
    if row.link:
        c.setFont(MONO, 6.5)  # type: ignore[attr-defined]
        c.drawString(x + pad, y + pad, row.link)  # type: ignore[attr-defined]


def png_rows(png: bytes) -> tuple[tuple[int, int], bytes]:
    """(width, height) and the packed 1-bit rows of a PNG made by `cards.qr_png`.

    Its layout is fixed (`cards._png_1bit`): IHDR, one IDAT, IEND; a filter byte of 0 before
    each row of ceil(width / 8) bytes."""
    width, height = struct.unpack(">II", png[16:24])
    (length,) = struct.unpack(">I", png[33:37])  # IDAT follows the 8 + 25 bytes before it
    if png[37:41] != b"IDAT":
        raise ValueError("not a PNG made by cards.qr_png")
    raw = zlib.decompress(png[41 : 41 + length])
    stride = (width + 7) // 8
    rows = b"".join(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)] for y in range(height))
    return (width, height), rows


def _wrap(text: str, font: str, size: float, width: float, measure: object) -> list[str]:
    """Break `text` into lines no wider than `width`: between Chinese characters (which have
    no spaces) or at a space, never inside a code or a command."""
    if measure(text, font, size) <= width:  # type: ignore[operator]
        return [text]
    lines: list[str] = []
    current = ""
    for token in re.findall(r"[!-~]+|\s+|.", text):
        if current and measure(current + token, font, size) > width:  # type: ignore[operator]
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current += token
    if current:
        lines.append(current)
    return lines
