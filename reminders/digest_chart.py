"""The digest's chart: contact coverage by sub-unit as a PNG (drawn with Pillow).

Chinese labels need a CJK font. When the machine has none the labels are written in pinyin
(ASCII) rather than as empty boxes.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

# Pillow (and pypinyin, only on a machine without a Chinese font) are imported where a chart
# is drawn: an admin command needs no chart. The bot draws nothing at start-up either, but
# warms the chart up in a thread (warm_up) so that a supervisor's first /digest does not
# pay for the imports and the font search.

MAX_BARS = 40  # more sub-units than this: show the lowest coverage ones


@dataclass(frozen=True)
class Bar:
    label: str
    percent: float  # 0–100
    detail: str  # e.g. "410/500"


@cache
def cjk_font_path() -> str | None:
    """A font file on this machine that has Chinese glyphs, or None.

    Asked of fontconfig (`fc-list :lang=zh`, some 20 ms); where fontconfig is not installed,
    matplotlib's font list is searched (its import alone takes 0.4 s)."""
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return _cjk_font_from_matplotlib()
    files = sorted(line.strip().rstrip(":") for line in listed.splitlines())
    usable = (".ttf", ".otf", ".ttc")  # Pillow's FreeType reads these; bitmap fonts are left
    return next(
        (f for f in files if f.lower().endswith(usable) and "lastresort" not in f.lower()), None
    )


def _cjk_font_from_matplotlib() -> str | None:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    for entry in font_manager.fontManager.ttflist:
        if "lastresort" in entry.name.lower().replace(" ", ""):
            continue  # has every code point, but draws each as a box
        try:
            font = FT2Font(entry.fname)
            if font.get_char_index(ord("帮")) and font.get_char_index(ord("镇")):
                return str(entry.fname)
        except (OSError, RuntimeError):
            continue
    return None


def ascii_label(text: str) -> str:
    """Pinyin for Chinese (顿谷镇 → Dunguzhen); anything else non-ASCII becomes '?'."""
    from pypinyin import lazy_pinyin

    out = "".join(lazy_pinyin(text)).encode("ascii", "replace").decode("ascii")
    return out[:1].upper() + out[1:]


def _color(pct: float) -> str:
    return "#2e7d32" if pct >= 90 else "#f9a825" if pct >= 60 else "#c62828"


def _fonts(font_path: str | None) -> tuple[Any, Any, Any]:
    """Title, label and value fonts (12, 10 and 8 points at 100 dpi)."""
    return _font(font_path, 17), _font(font_path, 14), _font(font_path, 11)


@cache
def _font(font_path: str | None, size: int) -> Any:
    from PIL import ImageFont

    if font_path is None:
        import matplotlib

        font_path = f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf"
    return ImageFont.truetype(font_path, size)


def _width(draw: Any, text: str, font: Any) -> float:
    return float(draw.textlength(text, font=font))


def warm_up() -> None:
    """Import what a chart needs and find and load its fonts, once per process (the bot
    calls it in a thread at start-up: a supervisor's first /digest then draws at once)."""
    from PIL import Image, ImageDraw  # noqa: F401

    font_path = cjk_font_path()
    _fonts(font_path)
    if font_path is None:
        ascii_label("镇")


def coverage_chart(title: str, bars: list[Bar], *, ascii_title: Callable[[], str]) -> bytes:
    """A horizontal bar chart, lowest coverage at the top, as PNG bytes.

    Drawn with Pillow straight onto one image (what matplotlib drew, at a hundredth of the
    cost): a weekly job draws one chart per group. `ascii_title` is called only on a machine
    without a Chinese font (pinyin: its dictionaries take a quarter of a second to load).
    """
    from PIL import Image, ImageDraw

    font_path = cjk_font_path()
    title_font, label_font, value_font = _fonts(font_path)
    shown = sorted(bars, key=lambda b: (b.percent, b.label))[:MAX_BARS]
    labels = [b.label if font_path else ascii_label(b.label) for b in shown]
    more = f" ({len(shown)}/{len(bars)})" if len(bars) > len(shown) else ""
    heading = (title if font_path else ascii_title()) + more
    width, height = 750, round(100 * (1.6 + 0.32 * max(len(shown), 1)))
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    # Plot area: labels on the left, the title above, the % axis below.
    left = 10 + max((_width(draw, s, label_font) for s in labels), default=0) + 12
    right, top, bottom = width - 15, 42, height - 48
    draw.text((width / 2, 12), heading, fill="black", font=title_font, anchor="mt")

    def x_at(percent: float) -> float:
        return left + (right - left) * max(0.0, min(percent, 112.0)) / 112.0

    row = (bottom - top) / max(len(shown), 1)
    for i, (b, label) in enumerate(zip(shown, labels, strict=True)):
        mid = top + row * (i + 0.5)
        half = row * 0.4  # bars fill 80% of their row
        if b.percent > 0:
            draw.rectangle((left, mid - half, x_at(b.percent), mid + half), fill=_color(b.percent))
        draw.line((left - 4, mid, left, mid), fill="black")
        draw.text((left - 7, mid), label, fill="black", font=label_font, anchor="rm")
        value = f"{b.percent:.0f}% {b.detail}"
        draw.text((x_at(b.percent + 1), mid), value, fill="black", font=value_font, anchor="lm")
    draw.line((left, top, left, bottom), fill="black")  # left and bottom spines only
    draw.line((left, bottom, right, bottom), fill="black")
    for tick in range(0, 101, 20):
        x = x_at(tick)
        draw.line((x, bottom, x, bottom + 4), fill="black")
        draw.text((x, bottom + 7), str(tick), fill="black", font=label_font, anchor="mt")
    draw.text(((left + right) / 2, bottom + 26), "%", fill="black", font=label_font, anchor="mt")
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)  # fast; flat colours compress well anyway
    return buf.getvalue()
