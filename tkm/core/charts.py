"""Bar charts as inline SVG drawn on the server (no JavaScript), for the dashboard page and the PDF letters.

One renderer, two profiles: ``SCREEN`` (the ``/dashboard`` page: the chart scales to its box, a ``<title>`` and
a ``<desc>`` referenced by ``aria-labelledby``, larger type, legends that wrap) and ``PRINT`` (letters rendered
by WeasyPrint: a fixed size in CSS pixels, small type, ``aria-label``, no ids so a letter renders the same every
time). The page and the letters show the same numbers in a table beside each chart.

Text cannot be measured on the server, so widths are estimated from the advance widths of DejaVu Sans, the font
both the page and the letters use (and among the widest sans fonts, so another font only leaves more room).
Every label is shortened to fit its column, the column for the figures is as wide as the widest figure, and the
legend wraps onto a new row where it does not fit: nothing is drawn outside the view box.
Every piece of text is escaped.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal
from markupsafe import Markup, escape

from tkm.core.i18n import _, babel_locale
from tkm.core.money import number

#: ``(key, legend, colour)``: the row's field drawn as one bar, its name in the legend, its fill.
Series = Sequence[tuple[str, str, str]]

FONT_FAMILY = "'DejaVu Sans', Verdana, sans-serif"
#: Advance widths of DejaVu Sans for the characters 32..126, in thousandths of the font size.
_ASCII_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775,
    752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390,
    337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)  # fmt: skip
_OTHER_WIDTHS = {"…": 1000, "·": 318, "–": 500, "—": 1000}
_UNKNOWN_WIDTH = 780  # letters with accents and other scripts: as wide as the widest common capitals
_ELLIPSIS = "…"
_SHORT_UNITS = ((10**12, "T"), (10**9, "M"), (10**6, "jt"), (10**3, "rb"))
MARGIN = 2  # between the edges of the view box and any text
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Profile:
    """Sizes (in view-box units, CSS pixels in print), type, colours and accessibility of one medium.

    The defaults are the screen's; the print profile changes what differs on paper.
    """

    name: str = "screen"
    width: int = 480
    fluid: bool = True  # True: width 100% of the box, scaled; False: a fixed size (print)
    linked_text: bool = True  # True: <title>/<desc> with ids and aria-labelledby; False: aria-label, no ids
    label_size: float = 13  # row labels, month labels, the peak figure, the "no figures" line
    value_size: float = 12  # the figure beside a bar
    legend_size: float = 13
    swatch: float = 12  # the legend's colour square
    bar: float = 14  # thickness of one bar in a horizontal chart
    bar_gap: float = 2  # between the bars of one row
    row_gap: float = 10  # between rows
    label_share: float = 0.36  # the label column takes at most this share of the width
    plot_height: int = 200  # height of the columns' area in a column chart
    max_column: float = 28  # widest column in a column chart
    ink: str = "#1d2733"  # the page's ink
    muted: str = "#56626f"
    axis: str = "#9aa5b1"

    @property
    def legend_row(self) -> float:
        return max(self.swatch, self.legend_size) + 6


SCREEN = Profile()
#: Letters: 480 CSS px is 127 mm, within the text column of an A4 letter; black type for photocopies.
PRINT = Profile(
    name="print",
    fluid=False,
    linked_text=False,
    label_size=8,
    value_size=7,
    legend_size=8,
    swatch=8,
    bar=9,
    row_gap=8,
    label_share=0.32,
    plot_height=120,
    max_column=18,
    ink="#000000",
    muted="#333333",
    axis="#666666",
)


# --- figures and text ---------------------------------------------------------------------------------------------


def short_rupiah(amount: int) -> str:
    """``Rp21,0 jt``: short figures beside bars (the tables carry the exact amounts).

    The unit is chosen after rounding, so 999.999.999.999 is ``Rp1,0 T`` and not ``Rp1000,0 M``.
    """
    size_of = abs(amount)
    if size_of >= 1000:
        for size, suffix in _SHORT_UNITS:
            short = round(size_of / size, 1)
            if short >= 1:
                figure = format_decimal(short, format="#,##0.0", locale=babel_locale("id"))
                return f"{'-' if amount < 0 else ''}Rp{figure} {suffix}"
    return f"Rp{amount}"


def value_text(value: int, money: bool) -> str:
    """The figure written beside a bar: short rupiah, or a count grouped as in the tables (``4.321``)."""
    return short_rupiah(value) if money else number(value)


def text_width(text: str, size: float) -> float:
    """Estimated width of ``text`` set in DejaVu Sans at ``size``."""
    thousandths = 0
    for char in text:
        code = ord(char)
        if 32 <= code <= 126:
            thousandths += _ASCII_WIDTHS[code - 32]
        else:
            thousandths += _OTHER_WIDTHS.get(char, _UNKNOWN_WIDTH)
    return thousandths * size / 1000


def fit(text: str, size: float, room: float) -> str:
    """``text`` as it is if it fits in ``room``, else cut and ended with an ellipsis so that it does."""
    if text_width(text, size) <= room:
        return text
    room -= text_width(_ELLIPSIS, size)
    if room < 0:
        return ""
    # Every prefix that fits, then the longest of them.
    widths = itertools.accumulate(text_width(char, size) for char in text)
    cut = sum(1 for _ in itertools.takewhile(lambda used: used <= room, widths))
    return text[:cut].rstrip() + _ELLIPSIS


def _figure(row: Mapping[str, Any], key: str) -> int:
    """A bar's value; a missing or negative figure draws no bar."""
    return max(0, int(row.get(key) or 0))


def _num(value: float) -> str:
    """A coordinate: one decimal at most, no trailing ``.0``."""
    return f"{value:.1f}".removesuffix(".0")


# --- the pieces of a chart ----------------------------------------------------------------------------------------


class _Canvas:
    """Collects the SVG elements of one chart; everything written through it is escaped."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.parts: list[str] = []

    def text(self, x: float, y: float, text: str, size: float, *, fill: str = "", anchor: str = "") -> None:
        extra = f' fill="{fill}"' if fill else ""
        extra += f' text-anchor="{anchor}"' if anchor else ""
        self.parts.append(f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}"{extra}>{escape(text)}</text>')

    def rect(self, x: float, y: float, width: float, height: float, colour: str, tip: str = "") -> None:
        shape = (
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" height="{_num(height)}" fill="{escape(colour)}"'
        )
        self.parts.append(f"{shape}><title>{escape(tip)}</title></rect>" if tip else f"{shape}/>")

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.parts.append(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{self.profile.axis}"/>'
        )

    def legend_rows(self, series: Series, x0: float) -> list[list[tuple[float, str, str]]]:
        """Legend items placed left to right from ``x0``, wrapping onto a new row where one does not fit."""
        p = self.profile
        rows: list[list[tuple[float, str, str]]] = [[]]
        x = x0
        for _key, legend, colour in series:
            legend = fit(legend, p.legend_size, p.width - MARGIN - x0 - p.swatch - 4)
            item = p.swatch + 4 + text_width(legend, p.legend_size)
            if rows[-1] and x + item > p.width - MARGIN:
                rows.append([])
                x = x0
            rows[-1].append((x, legend, colour))
            x += item + p.legend_size  # a gap of about one letter before the next item
        return rows

    def legend(self, rows: list[list[tuple[float, str, str]]], top: float) -> None:
        p = self.profile
        for line, items in enumerate(rows):
            y = top + line * p.legend_row
            for x, legend, colour in items:
                self.rect(x, y, p.swatch, p.swatch, colour)
                self.text(x + p.swatch + 4, y + p.swatch / 2 + p.legend_size * 0.36, legend, p.legend_size)

    def finish(self, series: Series, x0: float, top: float, title: str, desc: str) -> Markup:
        """The legend from ``x0`` below ``top``, then the whole chart."""
        rows = self.legend_rows(series, x0)
        self.legend(rows, top)
        return self.svg(top + len(rows) * self.profile.legend_row, title, desc)

    def svg(self, height: float, title: str, desc: str) -> Markup:
        p = self.profile
        width, height_text = p.width, _num(math.ceil(height))
        size = (
            'width="100%" preserveAspectRatio="xMinYMin meet"' if p.fluid else f'width="{width}" height="{height_text}"'
        )
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{p.name}" viewBox="0 0 {width} {height_text}" '
            f'{size} font-family="{FONT_FAMILY}" fill="{p.ink}" role="img"'
        )
        if p.linked_text:
            uid = f"chart{next(_ids)}"
            labels = f"{uid}-t {uid}-d" if desc else f"{uid}-t"
            opening = [f'{head} aria-labelledby="{labels}">', f'<title id="{uid}-t">{escape(title)}</title>']
            if desc:
                opening.append(f'<desc id="{uid}-d">{escape(desc)}</desc>')
        else:
            opening = [f'{head} aria-label="{escape(title)}">', f"<title>{escape(title)}</title>"]
            if desc:
                opening.append(f"<desc>{escape(desc)}</desc>")
        return Markup("".join([*opening, *self.parts, "</svg>"]))  # noqa: S704 - every text went through escape()


def _nothing(profile: Profile, title: str, desc: str, empty: str | None) -> Markup:
    """A chart without rows: one line that says so (no axis, no legend for bars that are not there)."""
    canvas = _Canvas(profile)
    line = fit(_("No figures yet.") if empty is None else empty, profile.label_size, profile.width - 2 * MARGIN)
    canvas.text(MARGIN, profile.label_size, line, profile.label_size)
    return canvas.svg(profile.label_size * 1.5, title, desc)


def _peak(rows: Sequence[Mapping[str, Any]], series: Series) -> int:
    return max([_figure(r, key) for r in rows for key, _l, _c in series] + [1])


def _tip(label: str, legend: str, value: int, money: bool) -> str:
    return f"{label} · {legend}: {value_text(value, money)}"


# --- the charts ---------------------------------------------------------------------------------------------------


def bar_chart(
    rows: Sequence[Mapping[str, Any]],
    series: Series,
    *,
    profile: Profile,
    title: str,
    desc: str = "",
    label_key: str = "name",
    money: bool = True,
    empty: str | None = None,
) -> Markup:
    """Horizontal grouped bars: one group per row (region, training centre, product), one bar per series,
    the figure written beside each bar."""
    if not rows:
        return _nothing(profile, title, desc, empty)
    p, canvas = profile, _Canvas(profile)
    labels = [str(r.get(label_key) or "") for r in rows]
    figures = [[_figure(r, key) for key, _l, _c in series] for r in rows]
    gap = p.label_size * 0.6
    # The label column is as wide as the longest label, within limits; the figures' column as the widest figure.
    longest = max(text_width(label, p.label_size) for label in labels)
    label_w = min(max(MARGIN + longest + gap, p.width * 0.15), p.width * p.label_share)
    widest = max((text_width(value_text(v, money), p.value_size) for vs in figures for v in vs), default=0)
    plot = p.width - label_w - (3 + widest + MARGIN)
    peak = _peak(rows, series)
    group_h = len(series) * (p.bar + p.bar_gap) - p.bar_gap
    for i, (label, values) in enumerate(zip(labels, figures, strict=True)):
        top = MARGIN + i * (group_h + p.row_gap)
        shown = fit(label, p.label_size, label_w - gap - MARGIN)
        canvas.text(label_w - gap, top + group_h / 2 + p.label_size * 0.36, shown, p.label_size, anchor="end")
        for j, ((_key, legend, colour), value) in enumerate(zip(series, values, strict=True)):
            y, bar = top + j * (p.bar + p.bar_gap), plot * value / peak
            canvas.rect(label_w, y, bar, p.bar, colour, _tip(label, legend, value, money))
            canvas.text(label_w + bar + 3, y + p.bar / 2 + p.value_size * 0.36, value_text(value, money), p.value_size)
    body_h = MARGIN + len(rows) * (group_h + p.row_gap) - p.row_gap
    return canvas.finish(series, label_w, body_h + p.row_gap + 4, title, desc)


def column_chart(
    rows: Sequence[Mapping[str, Any]],
    series: Series,
    *,
    profile: Profile,
    title: str,
    desc: str = "",
    label_key: str = "month",
    money: bool = True,
    empty: str | None = None,
) -> Markup:
    """Vertical grouped columns: one group per row (e.g. per month), one column per series; the peak figure is
    written at the top, each column's figure is its tooltip (the table beside the chart has them all)."""
    if not rows:
        return _nothing(profile, title, desc, empty)
    p, canvas = profile, _Canvas(profile)
    base = p.label_size * 1.6 + p.plot_height
    peak = _peak(rows, series)
    canvas.text(MARGIN, p.label_size, value_text(peak, money), p.label_size, fill=p.muted)
    canvas.line(0, base, p.width, base)
    labels = [str(r.get(label_key) or "") for r in rows]
    group_w = p.width / len(rows)
    bar_w = max(2.0, min(p.max_column, (group_w - 6) / max(1, len(series))))
    # Every n-th label only, so that neighbours never touch.
    widest = max(text_width(label, p.label_size) for label in labels)
    step = max(1, math.ceil((widest + p.label_size) / group_w))
    for i, (row, label) in enumerate(zip(rows, labels, strict=True)):
        x0 = i * group_w + (group_w - bar_w * len(series)) / 2
        for j, (key, legend, colour) in enumerate(series):
            value = _figure(row, key)
            h = p.plot_height * value / peak
            canvas.rect(x0 + j * bar_w, base - h, bar_w - 1, h, colour, _tip(label, legend, value, money))
        if i % step == 0:
            shown = fit(label, p.label_size, p.width - 2 * MARGIN)
            half = MARGIN + text_width(shown, p.label_size) / 2
            centre = min(max(i * group_w + group_w / 2, half), p.width - half)  # the first and last stay inside
            canvas.text(centre, base + p.label_size * 1.3, shown, p.label_size, anchor="middle")
    return canvas.finish(series, MARGIN, base + p.label_size * 1.3 + p.row_gap, title, desc)
