"""The 12-month coverage trend as an inline SVG: no script, no image file."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, TOP, BOTTOM = 360, 150, 18, 22


@dataclass(frozen=True)
class TrendBar:
    label: str
    value: int
    total: int

    @property
    def ratio(self) -> float:
        return min(self.value / self.total, 1.0) if self.total else 0.0


def _color(ratio: float) -> str:
    return "#2e7d32" if ratio >= 0.9 else "#f9a825" if ratio >= 0.6 else "#c62828"


def trend_svg(bars: list[TrendBar]) -> Markup:
    """Bars of the share of households contacted per month, labelled with the percentage."""
    if not bars:
        return Markup("")
    step = WIDTH / len(bars)
    inner = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
    ]
    for i, bar in enumerate(bars):
        h = round(inner * bar.ratio, 1)
        x = round(i * step + step * 0.15, 1)
        y = round(TOP + inner - h, 1)
        cx = round(i * step + step / 2, 1)
        pct = f"{bar.ratio * 100:.0f}" if bar.total else "—"
        parts.append(
            f'<rect x="{x}" y="{y}" width="{round(step * 0.7, 1)}" height="{h}" '
            f'fill="{_color(bar.ratio)}"><title>{escape(bar.label)} {bar.value}/{bar.total}</title></rect>'
            f'<text x="{cx}" y="{y - 3}" font-size="9" text-anchor="middle">{pct}</text>'
            f'<text x="{cx}" y="{HEIGHT - 6}" font-size="10" text-anchor="middle">{escape(bar.label)}</text>'
        )
    parts.append(
        f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" stroke="#999"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
