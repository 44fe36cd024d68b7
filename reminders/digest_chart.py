"""The digest's chart: contact coverage by sub-unit as a PNG (matplotlib, Agg, no pyplot).

Chinese labels need a CJK font. When the machine has none the labels are written in pinyin
(ASCII) rather than as empty boxes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

# matplotlib is imported where a chart is drawn: it costs a second at start-up, and an
# admin command or the bot's first minutes need no chart.

MAX_BARS = 40  # more sub-units than this: show the lowest coverage ones


@dataclass(frozen=True)
class Bar:
    label: str
    percent: float  # 0–100
    detail: str  # e.g. "410/500"


@cache
def cjk_font_path() -> str | None:
    """A font file on this machine that has Chinese glyphs, or None."""
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


def coverage_chart(title: str, bars: list[Bar], *, ascii_title: str) -> bytes:
    """A horizontal bar chart, lowest coverage at the top, as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font_path = cjk_font_path()
    prop = FontProperties(fname=font_path) if font_path else FontProperties()
    shown = sorted(bars, key=lambda b: (b.percent, b.label))[:MAX_BARS]
    labels = [b.label if font_path else ascii_label(b.label) for b in shown]
    fig = Figure(figsize=(7.5, 1.6 + 0.32 * max(len(shown), 1)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ys = list(range(len(shown)))[::-1]
    ax.barh(ys, [b.percent for b in shown], color=[_color(b.percent) for b in shown])
    ax.set_yticks(ys, labels, fontproperties=prop)
    ax.set_xlim(0, 112)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("%")
    for y, b in zip(ys, shown, strict=True):
        ax.text(b.percent + 1, y, f"{b.percent:.0f}% {b.detail}", va="center", fontsize=8)
    # When only the lowest MAX_BARS fit, say how many of how many are shown.
    more = f" ({len(shown)}/{len(bars)})" if len(bars) > len(shown) else ""
    ax.set_title((title if font_path else ascii_title) + more, fontproperties=prop)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
