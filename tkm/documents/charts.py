"""Charts for PDF reports as inline SVG, drawn on the server (no JavaScript). Labels are escaped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

LABEL_WIDTH = 150
VALUE_WIDTH = 70
BAR_HEIGHT = 9
BAR_GAP = 2
ROW_GAP = 8
LEGEND_HEIGHT = 18


def short_rupiah(amount: int) -> str:
    """``Rp21,0 jt``: short figures beside bars (the tables carry the exact amounts)."""
    for size, suffix in ((10**12, "T"), (10**9, "M"), (10**6, "jt"), (10**3, "rb")):
        if abs(amount) >= size:
            return f"Rp{amount / size:.1f} {suffix}".replace(".", ",")
    return f"Rp{amount}"


def value_text(value: int, money: bool) -> str:
    """The figure written beside a bar: short rupiah, or a count with dots between thousands."""
    return short_rupiah(value) if money else f"{value:,}".replace(",", ".")


def bar_chart(
    rows: Sequence[dict[str, Any]],
    series: Sequence[tuple[str, str, str]],
    *,
    title: str,
    label_key: str = "name",
    width: int = 480,
    money: bool = True,
) -> Markup:
    """Horizontal grouped bars: one group per row, one bar per ``(key, legend, colour)`` in ``series``."""
    group_height = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    height = max(1, len(rows)) * (group_height + ROW_GAP) + LEGEND_HEIGHT + 4
    plot = width - LABEL_WIDTH - VALUE_WIDTH
    peak = max([int(r.get(key) or 0) for r in rows for key, _l, _c in series] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not rows:
        parts.append(f'<text x="0" y="12" font-size="9">{escape("Belum ada data.")}</text>')
    for i, row in enumerate(rows):
        top = i * (group_height + ROW_GAP)
        label = str(row.get(label_key) or "")
        label = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{top + group_height / 2 + 3:.1f}" font-size="8" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for j, (key, _legend, colour) in enumerate(series):
            value = int(row.get(key) or 0)
            bar = plot * value / peak
            y = top + j * (BAR_HEIGHT + BAR_GAP)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{bar:.1f}" height="{BAR_HEIGHT}" fill="{escape(colour)}"/>'
            )
            text = value_text(value, money)
            parts.append(f'<text x="{LABEL_WIDTH + bar + 3:.1f}" y="{y + 7}" font-size="7">{escape(text)}</text>')
    legend_y = height - LEGEND_HEIGHT + 8
    x = LABEL_WIDTH
    for _key, legend, colour in series:
        parts.append(f'<rect x="{x}" y="{legend_y}" width="8" height="8" fill="{escape(colour)}"/>')
        parts.append(f'<text x="{x + 11}" y="{legend_y + 7}" font-size="8">{escape(legend)}</text>')
        x += 14 + 5 * len(legend)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text above went through escape()
