"""The server-rendered SVG charts: their ticks, geometry, tooltips, table view and escaping,
checked on the HTML that ``{% chart %}`` writes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.template import Context, Template
from django.utils import translation

from reports.charts import Chart, Series, nice_ticks, tick_labels

SVG = "{http://www.w3.org/2000/svg}"
WEEK = ["Nov 27", "Nov 28", "Nov 29"]


def render(chart: Chart, options: str = "") -> str:
    return Template("{% load charts %}{% chart chart " + options + " %}").render(
        Context({"chart": chart})
    )


def svg_of(html: str) -> ET.Element:
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match is not None
    return ET.fromstring(match.group(0))  # noqa: S314 - our own output, in a test


def table_of(html: str) -> ET.Element:
    match = re.search(r"<table\b.*?</table>", html, re.S)
    assert match is not None
    return ET.fromstring(match.group(0))  # noqa: S314 - our own output, in a test


def rects(svg: ET.Element) -> list[dict[str, str]]:
    return [
        {**rect.attrib, "title": rect.findtext(f"{SVG}title") or ""}
        for rect in svg.iter(f"{SVG}rect")
    ]


def plot_box(svg: ET.Element) -> tuple[float, float]:
    """The y of the axis (value 0) and of the top gridline (the highest tick)."""
    baseline = svg.find(f"{SVG}line[@class='chart-baseline']")
    assert baseline is not None
    grid = [float(line.attrib["y1"]) for line in svg.iter(f"{SVG}line")]
    return float(baseline.attrib["y1"]), min(grid)


def axis_texts(svg: ET.Element, axis: str) -> list[str]:
    group = svg.find(f"{SVG}g[@class='chart-axis chart-{axis}-axis']")
    assert group is not None
    return [text.text or "" for text in group.iter(f"{SVG}text")]


def delivery(**kwargs: object) -> Chart:
    options: dict[str, object] = {
        "title": "Delivery",
        "labels": WEEK,
        "series": [Series("Delivered", [100, 1234, 50]), Series("Failed", [3, 4, 0], "bad")],
        "unit": "messages",
        **kwargs,
    }
    return Chart(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("maximum", "whole", "ticks"),
    [
        (0, True, [0, 1, 2, 3]),
        (1, True, [0, 1, 2, 3]),
        (1, False, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (7, True, [0, 2, 4, 6, 8]),
        (10, True, [0, 2, 4, 6, 8, 10]),
        (99, True, [0, 20, 40, 60, 80, 100]),
        (1234, True, [0, 250, 500, 750, 1000, 1250]),
        (0.5, False, [0, 0.1, 0.2, 0.3, 0.4, 0.5]),
    ],
)
def test_it_picks_round_ticks_up_to_the_largest_value(maximum, whole, ticks):
    assert nice_ticks(maximum, whole=whole) == ticks


def test_it_writes_ticks_with_enough_decimals_when_the_format_has_too_few():
    assert tick_labels([0, 0.25, 0.5], "{:,.0f}") == ["0.00", "0.25", "0.50"]
    assert tick_labels([0, 250, 1250], "{:,.0f}") == ["0", "250", "1,250"]


def test_it_draws_a_percent_axis_with_its_unit():
    chart = Chart(
        title="Failure rate",
        labels=WEEK,
        series=[Series("Failed", [0.5, 0.25, 0.1], "bad")],
        unit="%",
        value_format="{:.1f}",
    )

    svg = svg_of(render(chart))

    assert axis_texts(svg, "y") == ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5"]
    unit = svg.find(f"{SVG}text[@class='chart-axis chart-unit']")
    assert unit is not None
    assert unit.text == "%"
    assert rects(svg)[0]["title"] == "Nov 27 · Failed: 0.5%"


def test_it_draws_bar_heights_in_proportion_to_values():
    chart = Chart(title="Sent", labels=WEEK, series=[Series("Sent", [100, 50, 25])])

    svg = svg_of(render(chart))

    zero, top = plot_box(svg)
    heights = [float(bar["height"]) for bar in rects(svg)]
    assert heights == pytest.approx([zero - top, (zero - top) / 2, (zero - top) / 4], abs=0.02)
    for bar in rects(svg):
        assert float(bar["y"]) + float(bar["height"]) == pytest.approx(zero, abs=0.02)


def test_it_puts_grouped_bars_side_by_side_within_their_label():
    svg = svg_of(render(delivery()))

    bars = rects(svg)
    assert [bar["title"].split(" · ")[0] for bar in bars] == [d for d in WEEK for _ in "ab"]
    for delivered, failed in zip(bars[::2], bars[1::2], strict=True):
        assert float(delivered["x"]) + float(delivered["width"]) <= float(failed["x"])
    assert float(bars[1]["x"]) < float(bars[2]["x"])


def test_it_stacks_segments_that_add_up_to_the_total():
    chart = delivery(
        series=[Series("Delivered", [90, 40, 10]), Series("Failed", [10, 20, 0])], stacked=True
    )

    svg = svg_of(render(chart))

    zero, top = plot_box(svg)
    bars = rects(svg)
    assert len(bars) == 6
    for lower, upper, total in zip(bars[::2], bars[1::2], [100, 60, 10], strict=True):
        assert lower["x"] == upper["x"]
        assert float(upper["y"]) + float(upper["height"]) == pytest.approx(float(lower["y"]))
        assert float(lower["height"]) + float(upper["height"]) == pytest.approx(
            (zero - top) * total / 100, abs=0.02
        )


def test_it_draws_a_line_through_each_point():
    chart = Chart(
        title="Delivered", labels=WEEK, series=[Series("Delivered", [0, 50, 100])], kind="line"
    )

    svg = svg_of(render(chart))

    zero, top = plot_box(svg)
    path = svg.find(f".//{SVG}path[@class='chart-line']")
    assert path is not None
    steps = re.findall(r"([ML])([\d.]+),([\d.]+)", path.attrib["d"])
    assert [step[0] for step in steps] == ["M", "L", "L"]
    xs = [float(step[1]) for step in steps]
    ys = [float(step[2]) for step in steps]
    assert ys == pytest.approx([zero, (zero + top) / 2, top], abs=0.02)
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.02)
    points = list(svg.iter(f"{SVG}circle"))
    assert [(float(p.attrib["cx"]), float(p.attrib["cy"])) for p in points] == list(
        zip(xs, ys, strict=True)
    )
    assert points[2].findtext(f"{SVG}title") == "Nov 29 · Delivered: 100"
    assert rects(svg) == []


def test_it_gives_each_bar_a_tooltip_with_label_series_and_value():
    svg = svg_of(render(delivery()))

    titles = [bar["title"] for bar in rects(svg)]
    assert titles[2] == "Nov 28 · Delivered: 1,234 messages"
    assert titles[5] == "Nov 29 · Failed: 0 messages"


def test_it_lists_the_same_numbers_in_a_table_view():
    html = render(delivery(title="Delivery this week", value_format="{:,.1f}"))

    assert '<details class="chart-table">\n    <summary>Table view</summary>' in html
    table = table_of(html)
    assert table.findtext("caption") == "Delivery this week"
    assert [th.text for th in table.iter("th") if th.get("scope") == "col"] == [
        "Delivered",
        "Failed",
    ]
    body = table.find("tbody")
    assert body is not None
    assert [[cell.text for cell in row] for row in body] == [
        ["Nov 27", "100.0", "3.0"],
        ["Nov 28", "1,234.0", "4.0"],
        ["Nov 29", "50.0", "0.0"],
    ]
    assert "Unit: messages" in html


@pytest.mark.parametrize(
    "chart",
    [
        Chart(title="Sent", labels=[], series=[Series("Sent", [])]),
        Chart(title="Sent", labels=WEEK, series=[]),
        Chart(title="Sent", labels=WEEK, series=[Series("Sent", [0, 0, 0])]),
        Chart(title="Sent", labels=WEEK, series=[Series("Sent", [0, 0, 0])], kind="line"),
    ],
)
def test_it_shows_an_empty_state_instead_of_a_chart_without_data(chart):
    html = render(chart)

    assert "No data for this period" in html
    assert '<figcaption class="chart-title">Sent</figcaption>' in html
    assert "<svg" not in html
    assert "<table" not in html


def test_it_labels_every_nth_day_of_a_month_but_tables_them_all():
    days = [f"Nov {day}" for day in range(1, 31)]
    chart = Chart(title="Sent", labels=days, series=[Series("Sent", list(range(1, 31)))])

    html = render(chart)

    shown = axis_texts(svg_of(html), "x")
    assert 3 <= len(shown) <= 8
    step = days.index(shown[1])
    assert shown == days[::step]
    assert len(rects(svg_of(html))) == 30
    body = table_of(html).find("tbody")
    assert body is not None
    assert [row[0].text for row in body] == days


def test_it_labels_every_hour_when_they_fit_and_cuts_long_labels_short():
    hours = Chart(title="By hour", labels=["00", "01", "02"], series=[Series("Sent", [1, 2, 3])])
    names = Chart(
        title="By template",
        labels=["Welcome to the club", "Reminder"],
        series=[Series("Sent", [5, 3])],
    )

    assert axis_texts(svg_of(render(hours)), "x") == ["00", "01", "02"]
    svg = svg_of(render(names))
    texts = svg.findall(f".//{SVG}g[@class='chart-axis chart-x-axis']/{SVG}text")
    assert [text.text for text in texts] == [None, "Reminder"]
    tooltip = texts[0].find(f"{SVG}title")
    assert tooltip is not None
    assert (tooltip.text, tooltip.tail) == ("Welcome to the club", "Welcome t…")


def test_it_escapes_titles_labels_and_series_names():
    hostile_title = "<script>alert(1)</script>"
    hostile_label = '"><img src=x onerror=alert(1)>'
    hostile_name = "Tom & <b>Jerry</b>'s"
    chart = Chart(
        title=hostile_title,
        labels=[hostile_label, "Nov 28"],
        series=[Series(hostile_name, [3, 4]), Series("Failed", [1, 0], "bad")],
        unit="<i>msgs</i>",
        description='"><svg onload=alert(1)>',
    )

    html = render(chart)

    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "<i>" not in html
    assert "<svg onload" not in html
    svg = svg_of(html)
    assert svg.findtext(f"{SVG}title") == hostile_title
    assert svg.findtext(f"{SVG}desc") == '"><svg onload=alert(1)>'
    assert rects(svg)[0]["title"] == f"{hostile_label} · {hostile_name}: 3 <i>msgs</i>"
    table = table_of(html)
    assert table.findtext("caption") == hostile_title
    assert [th.text for th in table.iter("th")] == [hostile_name, "Failed", hostile_label, "Nov 28"]


@pytest.mark.parametrize(
    "chart",
    [
        delivery(),
        delivery(stacked=True),
        delivery(kind="line"),
        delivery(series=[Series("Delivered", [0, 0, 0])]),
    ],
)
def test_it_writes_well_formed_svg_without_inline_styles_or_scripts(chart):
    html = render(chart)

    assert "style=" not in html
    assert "<script" not in html
    if "<svg" in html:
        svg_of(html)


def test_it_scales_to_its_container_and_names_itself_for_screen_readers():
    svg = svg_of(render(delivery()))

    assert svg.attrib["viewBox"] == "0 0 600 300"
    assert "width" not in svg.attrib
    assert "height" not in svg.attrib
    assert svg.attrib["role"] == "img"
    title = svg.find(f"{SVG}title")
    desc = svg.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert svg.attrib["aria-labelledby"] == title.attrib["id"]
    assert svg.attrib["aria-describedby"] == desc.attrib["id"]
    assert desc.text == (
        "Bar chart of Delivered and Failed from Nov 27 to Nov 29, in messages. "
        "The table view lists every value."
    )


def test_it_takes_an_id_and_can_keep_the_title_for_screen_readers_only():
    html = render(delivery(), 'dom_id="Delivery week" show_title=False')

    assert '<figure class="chart chart-bar" id="delivery-week">' in html
    assert 'aria-labelledby="delivery-week-title"' in html
    assert '<figcaption class="chart-title visually-hidden">Delivery</figcaption>' in html


def test_it_shows_a_legend_only_for_more_than_one_series():
    one = Chart(title="Sent", labels=WEEK, series=[Series("Sent", [1, 2, 3])])

    assert '<ul class="chart-legend">' in render(delivery())
    assert "chart-legend" not in render(one)
    assert '<li class="chart-tone-bad"><span class="chart-swatch" aria-hidden="true"></span>' in (
        render(delivery())
    )


def test_it_writes_coordinates_with_a_decimal_point_in_every_language():
    with translation.override("de"):
        svg = svg_of(render(delivery()))

    assert all("," not in bar["y"] for bar in rects(svg))
    assert any("." in bar["y"] for bar in rects(svg))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"labels": ["Nov 27"]}, "has 3 values for 1 labels"),
        ({"series": [Series("Sent", [1, 2, 3], "pink")]}, "tone must be one of"),
        ({"kind": "pie"}, "kind must be one of"),
        ({"kind": "line", "stacked": True}, "only bar charts can be stacked"),
        ({"series": [Series("Sent", [1, -2, 3])]}, "negative or non-finite"),
        ({"series": [Series("Sent", [1, float("nan"), 3])]}, "negative or non-finite"),
    ],
)
def test_it_refuses_a_chart_it_cannot_draw_truthfully(options, message):
    with pytest.raises(ValueError, match=message):
        delivery(**options)
