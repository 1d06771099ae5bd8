"""Charts drawn by the app as server-rendered SVG, readable without JavaScript.

A page builds a ``Chart`` and renders it with the ``chart`` tag; the stylesheet is linked from
the page's content block, since the content security policy allows no inline styles:

    {% load static charts %}
    {% block content %}
    <link rel="stylesheet" href="{% static 'reports/charts.css' %}">
    {% chart delivery_chart %}
    {% endblock %}

``{% chart chart dom_id="delivery" show_title=False %}`` gives the figure a chosen id prefix
and keeps its title for screen readers only (when the card around it has a heading already).

The figure holds an inline SVG (bars, stacked bars or lines, a ``<title>`` tooltip on every
bar and point), an HTML legend when there is more than one series, and a table view of the
same numbers in ``<details>``. Every coordinate is computed here; the template only writes
them out.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TONES = ("primary", "good", "warn", "bad", "muted")
KINDS = ("bar", "line")
EMPTY_TEXT = "No data for this period"

# The drawing's box in user units. The SVG has no width of its own: it is as wide as its
# container, so a 390 px phone draws these 600 units about 330 px wide, and charts.css then
# raises the text from 13 to 24 units. Every gap for text below is measured at that size.
WIDTH = 600
HEIGHT = 300
FONT = 24.0
CHAR = FONT * 0.6  # a generous average width of a digit or letter
LABEL_CHARS = 10  # longer x labels are cut short on the axis (the table has them whole)
MAX_BAR = 48.0  # a bar's widest, so that a week of one series does not draw slabs
_STEPS = (1.0, 2.0, 2.5, 5.0)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]
    tone: str = "primary"


@dataclass(frozen=True)
class Chart:
    title: str
    labels: list[str]
    series: list[Series]
    unit: str = ""
    kind: str = "bar"
    stacked: bool = False
    value_format: str = "{:,.0f}"
    description: str = ""

    def __post_init__(self) -> None:
        # A wrong chart is the caller's bug: say so at once rather than draw something false.
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.stacked and self.kind != "bar":
            raise ValueError("only bar charts can be stacked")
        for series in self.series:
            if series.tone not in TONES:
                raise ValueError(f"tone must be one of {TONES}, not {series.tone!r}")
            if len(series.values) != len(self.labels):
                raise ValueError(
                    f"{series.name!r} has {len(series.values)} values for {len(self.labels)} labels"
                )
            if not all(math.isfinite(value) and value >= 0 for value in series.values):
                raise ValueError(f"{series.name!r} has a negative or non-finite value")

    @property
    def is_empty(self) -> bool:
        return not any(value for series in self.series for value in series.values)


@dataclass(frozen=True)
class YTick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str
    full: str  # the whole label, a tooltip when ``text`` is cut short


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    tone: str
    title: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    tone: str
    path: str
    points: list[Point]


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    tick_x: float  # where the y labels end, left of the axis
    unit: str
    unit_y: float  # the unit's baseline, above the top tick
    label_y: float  # the top of the x labels, below the axis
    y_ticks: list[YTick]
    x_labels: list[XLabel]
    bars: list[Bar]
    lines: list[Line]


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: list[str]


def nice_ticks(maximum: float, *, whole: bool = False) -> list[float]:
    """0 and 3 to 5 evenly spaced round ticks (steps of 1, 2, 2.5 or 5 times a power of ten),
    the last at or above ``maximum``. With ``whole`` the step is a whole number, for counts."""
    if maximum <= 0:
        maximum = 1.0
    exponent = math.floor(math.log10(maximum / 5))
    while True:
        for multiple in _STEPS:
            step = multiple * 10.0**exponent
            if whole and not (step >= 1 and step.is_integer()):
                continue
            # The tolerance keeps 0.3 / 0.1 (5.000000000000001 in floats) at 5 intervals.
            count = max(3, math.ceil(maximum / step - 1e-9))
            if count <= 5:
                return [_clean(i * step) for i in range(count + 1)]
        exponent += 1


def tick_labels(ticks: Sequence[float], value_format: str) -> list[str]:
    """The ticks written with ``value_format``, or with just enough decimals when that format
    would write two ticks alike (0.1 and 0.2 are both "0" in "{:,.0f}")."""
    labels = [value_format.format(tick) for tick in ticks]
    if len(set(labels)) == len(labels):
        return labels
    decimals = next((d for d in range(12) if all(round(t, d) == t for t in ticks)), 12)
    return [f"{tick:,.{decimals}f}" for tick in ticks]


def format_value(value: float, *, value_format: str, unit: str) -> str:
    text = value_format.format(value)
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def label_step(labels: Sequence[str], plot_width: float) -> int:
    """Label every n-th category, so that the x labels never overlap at the largest text."""
    if not labels:
        return 1
    chars = min(max(len(label) for label in labels), LABEL_CHARS)
    fitting = max(1, math.floor(plot_width / (chars * CHAR + FONT / 2)))
    return math.ceil(len(labels) / fitting)


def line_path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(
        f"{'M' if i == 0 else 'L'}{_num(x)},{_num(y)}" for i, (x, y) in enumerate(points)
    )


def draw(chart: Chart) -> Drawing | None:
    """The chart's geometry, or None when there is nothing to draw."""
    if chart.is_empty:
        return None
    if chart.stacked:
        highest = max(sum(values) for values in zip(*(s.values for s in chart.series), strict=True))
    else:
        highest = max(max(s.values) for s in chart.series)
    whole = all(float(v).is_integer() for s in chart.series for v in s.values)
    ticks = nice_ticks(highest, whole=whole)
    labels = tick_labels(ticks, chart.value_format)

    left = max(len(label) for label in labels) * CHAR + FONT / 2
    right = WIDTH - FONT / 2
    # Room above the top tick's label for the unit, and below the axis for the x labels.
    top = FONT * 2 if chart.unit else FONT * 0.75
    bottom = HEIGHT - FONT * 1.8
    height = bottom - top
    band = (right - left) / len(chart.labels)

    def scale(value: float) -> float:
        return round(bottom - value / ticks[-1] * height, 2)

    y_ticks = [YTick(y=scale(t), label=label) for t, label in zip(ticks, labels, strict=True)]
    step = label_step(chart.labels, right - left)
    x_labels = [
        _x_label(left + (i + 0.5) * band, label)
        for i, label in enumerate(chart.labels)
        if i % step == 0
    ]
    bars = _bars(chart, left, band, scale) if chart.kind == "bar" else []
    lines = _lines(chart, left, band, scale) if chart.kind == "line" else []
    return Drawing(
        width=WIDTH,
        height=HEIGHT,
        left=round(left, 2),
        right=round(right, 2),
        top=round(top, 2),
        bottom=round(bottom, 2),
        tick_x=round(left - FONT / 3, 2),
        unit=chart.unit,
        unit_y=round(top - FONT * 0.75, 2),
        label_y=round(bottom + FONT * 0.6, 2),
        y_ticks=y_ticks,
        x_labels=x_labels,
        bars=bars,
        lines=lines,
    )


def table_rows(chart: Chart) -> list[TableRow]:
    return [
        TableRow(label=label, cells=[chart.value_format.format(s.values[i]) for s in chart.series])
        for i, label in enumerate(chart.labels)
    ]


def describe(chart: Chart) -> str:
    """A sentence for screen readers when the chart has no description of its own."""
    kind = "Stacked bar chart" if chart.stacked else f"{chart.kind.capitalize()} chart"
    names = [s.name for s in chart.series]
    named = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    if len(chart.labels) > 1:
        span = f" from {chart.labels[0]} to {chart.labels[-1]}"
    else:
        span = f" for {chart.labels[0]}" if chart.labels else ""
    unit = f", in {chart.unit}" if chart.unit else ""
    return f"{kind} of {named}{span}{unit}. The table view lists every value."


def dom_id(chart: Chart) -> str:
    """An id prefix that stays the same for the same chart, so a page's ids do not change
    from one render to the next (two identical charts on one page need ``dom_id=``)."""
    key = repr((chart.title, chart.labels, [(s.name, s.values) for s in chart.series]))
    return "chart-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def _bars(chart: Chart, left: float, band: float, scale: Callable[[float], float]) -> list[Bar]:
    bars = []
    count = len(chart.series)
    for i, label in enumerate(chart.labels):
        start = left + i * band
        if chart.stacked:
            width = min(band * 0.7, MAX_BAR)
            x = start + (band - width) / 2
            base = 0.0
            for series in chart.series:
                value = series.values[i]
                # Each segment starts where the one below ends, both read off the same scale.
                y, floor = scale(base + value), scale(base)
                bars.append(_bar(chart, label, series, value, x, y, width, floor - y))
                base += value
        else:
            group = min(band * 0.8, MAX_BAR * count)
            slot = group / count
            gap = min(2.0, slot * 0.15) if count > 1 else 0.0
            for j, series in enumerate(chart.series):
                value = series.values[i]
                y = scale(value)
                x = start + (band - group) / 2 + j * slot
                bars.append(_bar(chart, label, series, value, x, y, slot - gap, scale(0) - y))
    return bars


def _bar(
    chart: Chart,
    label: str,
    series: Series,
    value: float,
    x: float,
    y: float,
    width: float,
    height: float,
) -> Bar:
    return Bar(
        x=round(x, 2),
        y=y,
        width=round(width, 2),
        height=round(height, 2),
        tone=series.tone,
        title=_title(chart, label, series, value),
    )


def _lines(chart: Chart, left: float, band: float, scale: Callable[[float], float]) -> list[Line]:
    lines = []
    for series in chart.series:
        points = [
            Point(
                x=round(left + (i + 0.5) * band, 2),
                y=scale(value),
                title=_title(chart, label, series, value),
            )
            for i, (label, value) in enumerate(zip(chart.labels, series.values, strict=True))
        ]
        path = line_path([(p.x, p.y) for p in points])
        lines.append(Line(tone=series.tone, path=path, points=points))
    return lines


def _title(chart: Chart, label: str, series: Series, value: float) -> str:
    shown = format_value(value, value_format=chart.value_format, unit=chart.unit)
    return f"{label} · {series.name}: {shown}"


def _x_label(x: float, label: str) -> XLabel:
    text = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"
    # The first and last labels are kept inside the box rather than cut at its edge.
    half = len(text) * CHAR / 2
    return XLabel(x=round(min(max(x, half), WIDTH - half), 2), text=text, full=label)


def _clean(number: float) -> float:
    """Drops the float noise of a product (3 * 0.1 is 0.30000000000000004)."""
    return float(f"{number:.12g}")


def _num(number: float) -> str:
    return f"{number:.2f}".rstrip("0").rstrip(".")
