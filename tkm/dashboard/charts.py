"""Charts for the dashboard page as inline SVG drawn on the server (no JavaScript).

Each chart scales to its box (``viewBox``, width 100%), carries a ``<title>`` and a ``<desc>``
(referenced by ``aria-labelledby``), and the page shows the same numbers in a table beside it.
Every piece of text is escaped.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from tkm.documents.charts import short_rupiah

Series = Sequence[tuple[str, str, str]]  # (key, legend, colour)
_ids = itertools.count(1)


def _open(width: int, height: int, title: str, desc: str) -> tuple[list[str], str]:
    uid = f"chart{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-labelledby="{uid}-t {uid}-d">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    return parts, uid


def _legend(parts: list[str], series: Series, y: float, x: float = 0) -> None:
    for _key, legend, colour in series:
        parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="12" height="12" fill="{escape(colour)}"/>')
        parts.append(f'<text x="{x + 16:.0f}" y="{y + 10:.0f}" font-size="13">{escape(legend)}</text>')
        x += 28 + 7.5 * len(legend)


def _value_text(value: int, money: bool) -> str:
    return short_rupiah(value) if money else f"{value:,}".replace(",", ".")


def column_chart(
    rows: Sequence[dict[str, Any]],
    series: Series,
    *,
    title: str,
    desc: str,
    label_key: str = "month",
    money: bool = True,
    empty: str = "",
) -> Markup:
    """Vertical grouped columns, one group per row (e.g. per month), one column per series."""
    width, plot_h, top, bottom = 640, 220, 24, 52
    height = top + plot_h + bottom
    parts, _uid = _open(width, height, title, desc)
    peak = max([int(r.get(key) or 0) for r in rows for key, _l, _c in series] + [1])
    parts.append(f'<text x="0" y="14" font-size="12" fill="#56626f">{escape(_value_text(peak, money))}</text>')
    parts.append(f'<line x1="0" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#9aa5b1"/>')
    if not rows:
        parts.append(f'<text x="8" y="{top + plot_h / 2:.0f}" font-size="14">{escape(empty)}</text>')
    group_w = width / max(1, len(rows))
    bar_w = max(2.0, min(28.0, (group_w - 6) / max(1, len(series))))
    for i, row in enumerate(rows):
        x0 = i * group_w + (group_w - bar_w * len(series)) / 2
        for j, (key, legend, colour) in enumerate(series):
            value = max(0, int(row.get(key) or 0))
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{escape(colour)}"><title>{escape(str(row.get(label_key, "")))} · '
                f"{escape(legend)}: {escape(_value_text(value, money))}</title></rect>"
            )
        if len(rows) <= 12 or i % max(1, len(rows) // 12) == 0:
            parts.append(
                f'<text x="{i * group_w + group_w / 2:.1f}" y="{top + plot_h + 16}" font-size="12" '
                f'text-anchor="middle">{escape(str(row.get(label_key, "")))}</text>'
            )
    _legend(parts, series, top + plot_h + 30)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - all text above went through escape()


def bar_chart(
    rows: Sequence[dict[str, Any]],
    series: Series,
    *,
    title: str,
    desc: str,
    label_key: str = "name",
    money: bool = True,
    empty: str = "",
) -> Markup:
    """Horizontal grouped bars, one group per row (region, training centre, product)."""
    width, label_w, value_w, bar_h, gap, legend_h = 640, 200, 110, 14, 10, 30
    group_h = len(series) * (bar_h + 2)
    height = max(1, len(rows)) * (group_h + gap) + legend_h
    plot = width - label_w - value_w
    parts, _uid = _open(width, height, title, desc)
    peak = max([int(r.get(key) or 0) for r in rows for key, _l, _c in series] + [1])
    if not rows:
        parts.append(f'<text x="0" y="16" font-size="14">{escape(empty)}</text>')
    for i, row in enumerate(rows):
        y0 = i * (group_h + gap)
        label = str(row.get(label_key) or "")
        label = label if len(label) <= 26 else label[:25] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y0 + group_h / 2 + 5:.1f}" font-size="13" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for j, (key, _legend_text, colour) in enumerate(series):
            value = max(0, int(row.get(key) or 0))
            w = plot * value / peak
            y = y0 + j * (bar_h + 2)
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{escape(colour)}"/>')
            text = escape(_value_text(value, money))
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 11}" font-size="12">{text}</text>')
    _legend(parts, series, height - legend_h + 10, label_w)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - all text above went through escape()
