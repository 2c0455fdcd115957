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

from tkm.documents.charts import value_text

Series = Sequence[tuple[str, str, str]]  # (key, legend, colour)
_ids = itertools.count(1)
WIDTH = 480
LEGEND_ROW = 18


def _open(width: int, height: int, title: str, desc: str) -> tuple[list[str], str]:
    uid = f"chart{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-labelledby="{uid}-t {uid}-d">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    return parts, uid


def _legend_rows(series: Series, width: float, x0: float = 0) -> list[list[tuple[float, str, str]]]:
    """Legend items placed left to right, wrapping onto a new row at ``width``."""
    rows: list[list[tuple[float, str, str]]] = [[]]
    x = x0
    for _key, legend, colour in series:
        item = 28 + 7.5 * len(legend)
        if rows[-1] and x + item > width:
            rows.append([])
            x = x0
        rows[-1].append((x, legend, colour))
        x += item
    return rows


def _legend(parts: list[str], rows: list[list[tuple[float, str, str]]], y: float) -> None:
    for line, items in enumerate(rows):
        for x, legend, colour in items:
            top = y + line * LEGEND_ROW
            parts.append(f'<rect x="{x:.0f}" y="{top:.0f}" width="12" height="12" fill="{escape(colour)}"/>')
            parts.append(f'<text x="{x + 16:.0f}" y="{top + 10:.0f}" font-size="13">{escape(legend)}</text>')


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
    width, plot_h, top = WIDTH, 200, 24
    legend_rows = _legend_rows(series, width)
    height = top + plot_h + 30 + LEGEND_ROW * len(legend_rows)
    parts, _uid = _open(width, height, title, desc)
    peak = max([int(r.get(key) or 0) for r in rows for key, _l, _c in series] + [1])
    parts.append(f'<text x="0" y="14" font-size="12" fill="#56626f">{escape(value_text(peak, money))}</text>')
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
                f"{escape(legend)}: {escape(value_text(value, money))}</title></rect>"
            )
        if len(rows) <= 12 or i % max(1, len(rows) // 12) == 0:
            parts.append(
                f'<text x="{i * group_w + group_w / 2:.1f}" y="{top + plot_h + 16}" font-size="12" '
                f'text-anchor="middle">{escape(str(row.get(label_key, "")))}</text>'
            )
    _legend(parts, legend_rows, top + plot_h + 28)
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
    width, label_w, value_w, bar_h, gap = WIDTH, 150, 80, 14, 10
    group_h = len(series) * (bar_h + 2)
    legend_rows = _legend_rows(series, width, label_w)
    legend_h = 12 + LEGEND_ROW * len(legend_rows)
    height = max(1, len(rows)) * (group_h + gap) + legend_h
    plot = width - label_w - value_w
    parts, _uid = _open(width, height, title, desc)
    peak = max([int(r.get(key) or 0) for r in rows for key, _l, _c in series] + [1])
    if not rows:
        parts.append(f'<text x="0" y="16" font-size="14">{escape(empty)}</text>')
    for i, row in enumerate(rows):
        y0 = i * (group_h + gap)
        label = str(row.get(label_key) or "")
        label = label if len(label) <= 20 else label[:19] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y0 + group_h / 2 + 5:.1f}" font-size="13" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for j, (key, _legend_text, colour) in enumerate(series):
            value = max(0, int(row.get(key) or 0))
            w = plot * value / peak
            y = y0 + j * (bar_h + 2)
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{escape(colour)}"/>')
            text = escape(value_text(value, money))
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 11}" font-size="12">{text}</text>')
    _legend(parts, legend_rows, height - legend_h + 8)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - all text above went through escape()
