"""The chart renderer (tkm.core.charts) in both profiles: bars, figures, type, accessibility, nothing outside the
view box, zero and empty data. The SVG is parsed back as XML; text extents use the renderer's own estimate, which
is checked against the advance widths in the DejaVu Sans font file itself."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tkm.core import charts
from tkm.core.charts import PRINT, SCREEN, Profile
from tkm.core.i18n import reset_language, set_language

NS = {"s": "http://www.w3.org/2000/svg"}
RECT = "{http://www.w3.org/2000/svg}rect"
SERIES = [("approved", "Disetujui", "#1f4e79"), ("disbursed", "Disalurkan", "#5b9bd5")]
ROWS = [
    {"name": "Kota Padang", "approved": 21_001_000, "disbursed": 15_000_000},
    {"name": "Kab. Agam", "approved": 999_999_999_999, "disbursed": 0},
    {"name": "Kab. Pesisir Selatan", "approved": 750_000, "disbursed": 999},
]
LONG = "BLK Komunitas Pondok Pesantren Nurul Huda Agam Sumatera Barat dan Sekitarnya"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def view_box(root: ET.Element) -> tuple[float, float]:
    _x, _y, width, height = (float(n) for n in root.get("viewBox", "").split())
    return width, height


def bars(root: ET.Element) -> list[ET.Element]:
    """The bars (each carries a tooltip); the legend's swatches do not."""
    return [r for r in root.iter(RECT) if r.find("s:title", NS) is not None]


def texts(root: ET.Element) -> list[ET.Element]:
    return root.findall("s:text", NS)


def extent(text: ET.Element) -> tuple[float, float]:
    """Left and right edge of a text as the renderer estimates it, from its anchor."""
    width = charts.text_width(text.text or "", float(text.get("font-size", "0")))
    x = float(text.get("x", "0"))
    anchor = text.get("text-anchor", "start")
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return left, left + width


def assert_inside(root: ET.Element) -> None:
    width, height = view_box(root)
    for text in texts(root):
        left, right = extent(text)
        assert 0 <= left and right <= width, (text.text, left, right, width)
        assert 0 < float(text.get("y", "0")) <= height, text.text
    for rect in root.iter(RECT):
        assert float(rect.get("x", "0")) + float(rect.get("width", "0")) <= width
        assert float(rect.get("y", "0")) + float(rect.get("height", "0")) <= height


def bar_chart(profile: Profile, rows: list[dict[str, Any]] = ROWS, **kw: Any) -> ET.Element:
    return parse(charts.bar_chart(rows, kw.pop("series", SERIES), profile=profile, title="Dana per wilayah", **kw))


PROFILES = pytest.mark.parametrize("profile", [SCREEN, PRINT], ids=["screen", "print"])


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "Rp0"),
        (999, "Rp999"),
        (1_000, "Rp1,0 rb"),
        (750_000, "Rp750,0 rb"),
        (21_001_000, "Rp21,0 jt"),
        (999_960, "Rp1,0 jt"),  # rounded first, then the unit: not "Rp1000,0 rb"
        (999_999_999_999, "Rp1,0 T"),
        (1_234_567_890_123, "Rp1,2 T"),
        (2_345_000_000_000_000, "Rp2.345,0 T"),
        (-21_001_000, "-Rp21,0 jt"),
    ],
)
def test_short_rupiah(amount, text):
    assert charts.short_rupiah(amount) == text


def test_counts_are_grouped_like_the_tables_in_the_current_language():
    assert charts.value_text(4321, money=False) == "4.321"
    token = set_language("en")
    try:
        assert charts.value_text(4321, money=False) == "4,321"
        assert charts.value_text(4321, money=True) == "Rp4,3 rb"  # short rupiah is always written the Indonesian way
    finally:
        reset_language(token)


@PROFILES
def test_one_bar_per_value_and_the_figure_beside_it(profile):
    root = bar_chart(profile)
    drawn = bars(root)
    assert len(drawn) == len(ROWS) * len(SERIES)
    words = [t.text for t in texts(root)]
    for figure in ("Rp21,0 jt", "Rp15,0 jt", "Rp1,0 T", "Rp0", "Rp750,0 rb", "Rp999"):
        assert figure in words, figure
    # The bars are as long as their values: the largest reaches furthest, a zero draws nothing.
    widths = [float(r.get("width", "0")) for r in drawn]
    assert max(widths) == widths[2] and widths[3] == 0
    assert widths[0] / widths[2] == pytest.approx(21_001_000 / 999_999_999_999, abs=0.01)
    # Every bar says what it is when pointed at.
    assert drawn[0].findtext("s:title", namespaces=NS) == "Kota Padang · Disetujui: Rp21,0 jt"
    assert_inside(root)


@PROFILES
def test_counts_are_written_as_numbers(profile):
    rows = [{"product": "masker", "produced": 4321, "sold": 4000}]
    series = [("produced", "Diproduksi", "#0b5d7a"), ("sold", "Terjual", "#e0a030")]
    root = bar_chart(profile, rows, series=series, label_key="product", money=False)
    words = [t.text for t in texts(root)]
    assert "4.321" in words and "4.000" in words and not any("Rp" in (w or "") for w in words)


def test_the_print_profile_has_small_type_and_a_fixed_size():
    screen, printed = bar_chart(SCREEN), bar_chart(PRINT)
    label_sizes = {p: {t.get("font-size") for t in texts(root)} for p, root in (("s", screen), ("p", printed))}
    assert label_sizes["s"] == {"13", "12"} and label_sizes["p"] == {"8", "7"}
    assert screen.get("width") == "100%" and screen.get("height") is None
    assert printed.get("width") == "480" and printed.get("height") == str(int(view_box(printed)[1]))
    assert view_box(printed)[1] < view_box(screen)[1]  # thinner bars, smaller gaps


def test_screen_charts_are_labelled_by_their_title_and_description():
    root = parse(charts.bar_chart(ROWS, SERIES, profile=SCREEN, title="Dana & hasil", desc="Per wilayah."))
    assert root.get("role") == "img"
    title_id, desc_id = (root.get("aria-labelledby") or "").split()
    assert root.find(f"s:title[@id='{title_id}']", NS).text == "Dana & hasil"
    assert root.find(f"s:desc[@id='{desc_id}']", NS).text == "Per wilayah."
    other = parse(charts.bar_chart(ROWS, SERIES, profile=SCREEN, title="Lagi", desc="Lagi."))
    assert other.get("aria-labelledby") != root.get("aria-labelledby")  # two charts on one page do not share ids


def test_print_charts_carry_an_aria_label_and_no_ids():
    svg = charts.bar_chart(ROWS, SERIES, profile=PRINT, title="Dana per wilayah")
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-label") == "Dana per wilayah"
    assert root.findtext("s:title", namespaces=NS) == "Dana per wilayah"
    assert " id=" not in svg and "aria-labelledby" not in svg
    # The same letter draws the same chart every time.
    assert charts.bar_chart(ROWS, SERIES, profile=PRINT, title="Dana per wilayah") == svg


@PROFILES
def test_a_long_label_is_cut_to_fit_inside_the_view_box(profile):
    rows = [{"name": LONG, "approved": 1_234_567_890_123, "disbursed": 5}, {"name": "B", "approved": 0}]
    root = bar_chart(profile, rows)
    label = next(t for t in texts(root) if t.get("text-anchor") == "end")
    assert label.text and label.text.endswith("…") and LONG.startswith(label.text[:-1])
    assert bars(root)[0].findtext("s:title", namespaces=NS).startswith(LONG)  # the tooltip has it whole
    assert_inside(root)


@PROFILES
def test_a_long_legend_wraps_and_stays_inside(profile):
    series = [(f"k{i}", f"Diinvestasikan kembali nomor {i}", "#a9d18e") for i in range(4)]
    rows = [{"name": "Kota Padang", **{f"k{i}": (i + 1) * 10**6 for i in range(4)}}]
    root = bar_chart(profile, rows, series=series)
    legend = [t for t in texts(root) if (t.text or "").startswith("Diinvestasikan")]
    assert len(legend) == 4 and len({t.get("y") for t in legend}) > 1
    assert_inside(root)


@PROFILES
def test_zero_values_draw_empty_bars(profile):
    rows = [{"name": "Kota Padang", "approved": 0, "disbursed": None}, {"name": "Kab. Agam"}]
    root = bar_chart(profile, rows)
    assert [float(r.get("width", "1")) for r in bars(root)] == [0, 0, 0, 0]
    assert [t.text for t in texts(root)].count("Rp0") == 4
    assert_inside(root)


@PROFILES
def test_no_rows_say_so(profile):
    root = bar_chart(profile, [])
    assert not bars(root) and root.find("s:rect", NS) is None  # no legend for bars that are not there
    assert [t.text for t in texts(root)] == ["Belum ada angka."]
    custom = bar_chart(profile, [], empty="Belum ada kelompok.")
    assert [t.text for t in texts(custom)] == ["Belum ada kelompok."]
    assert [t.text for t in texts(parse(charts.column_chart([], SERIES, profile=profile, title="x")))] == [
        "Belum ada angka."
    ]


@PROFILES
def test_no_series_draw_no_bars(profile):
    root = bar_chart(profile, ROWS, series=[])
    assert not bars(root)
    assert {t.text for t in texts(root)} == {row["name"] for row in ROWS}
    assert_inside(root)


@PROFILES
def test_column_chart_one_column_per_value_and_labels_that_never_touch(profile):
    months = [{"month": f"2025-{m:02d}", "approved": m * 10**6, "disbursed": 0} for m in range(1, 13)] + [
        {"month": f"2026-{m:02d}", "approved": 10**9, "disbursed": 5 * 10**8} for m in range(1, 13)
    ]
    root = parse(charts.column_chart(months, SERIES, profile=profile, title="Dana per bulan", desc="Per bulan."))
    assert len(bars(root)) == 24 * 2
    assert texts(root)[0].text == "Rp1,0 M"  # the peak
    shown = sorted((extent(t) for t in texts(root) if re.fullmatch(r"\d{4}-\d{2}", t.text or "")), key=min)
    assert len(shown) >= 4
    assert all(left_edge[1] < right_edge[0] for left_edge, right_edge in itertools.pairwise(shown))
    assert_inside(root)


def test_text_is_escaped():
    rows = [{"name": '<script>alert("x")</script> & co', "approved": 1}]
    svg = str(charts.bar_chart(rows, [("approved", "<b>", '"red')], profile=SCREEN, title="<t>", desc="&"))
    assert "<script>" not in svg and "<b>" not in svg and 'fill=""red"' not in svg
    root = parse(svg)
    assert root.findtext("s:title", namespaces=NS) == "<t>"
    assert "<b>" in [t.text for t in texts(root)]


def test_fit_cuts_to_the_room():
    assert charts.fit("Kota Padang", 13, 1000) == "Kota Padang"
    cut = charts.fit(LONG, 13, 120)
    assert cut.endswith("…") and charts.text_width(cut, 13) <= 120 < charts.text_width(cut[:-1] + "ab…", 13)
    assert charts.fit(LONG, 13, 3) == ""


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu Sans is not installed")
def test_the_width_table_is_the_one_of_dejavu_sans():
    from fontTools.ttLib import TTFont  # installed with WeasyPrint

    font = TTFont(DEJAVU)
    cmap, metrics, units = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    for char in [chr(c) for c in range(32, 127)] + ["…", "·"]:
        advance = metrics[cmap[ord(char)]][0] / units
        assert charts.text_width(char, 1000) == pytest.approx(advance * 1000, abs=0.6), char


def test_letters_draw_their_charts_with_the_print_profile(tmp_path):
    from tkm.documents.renderer import make_environment

    env = make_environment(tmp_path)
    html = env.from_string(
        '{{ bar_chart(rows, series, title="Dana per wilayah") }}{{ column_chart(rows, series, title="Per bulan") }}'
    ).render(rows=[{"name": "Kota Padang", "month": "2026-01", "approved": 5}], series=SERIES)
    assert html.count('class="chart chart-print"') == 2 and 'font-size="8"' in html and "aria-labelledby" not in html
