"""``{% chart chart %}``: a ``reports.charts.Chart`` drawn as a figure (SVG, legend and table
view). ``dom_id="…"`` sets the prefix of its ids, ``show_title=False`` keeps its title for
screen readers only."""

from __future__ import annotations

from django import template
from django.utils.text import slugify

from reports import charts

register = template.Library()


@register.inclusion_tag("reports/_chart.html", name="chart")
def chart_figure(
    chart: charts.Chart, dom_id: str = "", show_title: bool = True
) -> dict[str, object]:
    return {
        "chart": chart,
        "drawing": charts.draw(chart),
        "rows": charts.table_rows(chart),
        "id": slugify(dom_id) or charts.dom_id(chart),
        "description": chart.description or charts.describe(chart),
        "show_title": show_title,
        "empty_text": charts.EMPTY_TEXT,
    }
