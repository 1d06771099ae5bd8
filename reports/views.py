"""The dashboard (``/``): is texting working, what does it cost, what should be fixed."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from connections.services.usage import Spend, spend
from reports.charts import Chart, Series
from reports.health import connection_health
from reports.selectors import PERIODS, Overview, overview, period_of
from tenants.access import OrganizationView
from tenants.models import Role


def _charts(figures: Overview, costs: Spend) -> dict[str, Chart]:
    period, line = figures.period, figures.timeline
    labels = [bucket.label for bucket in period.buckets]
    on_the_way = [
        max(sent - delivered - failed, 0)
        for sent, delivered, failed in zip(line.sent, line.delivered, line.failed, strict=True)
    ]
    charts = {
        "messages": Chart(
            title=f"Messages sent, {period.label.lower()}",
            labels=labels,
            series=[
                Series("Delivered", [float(v) for v in line.delivered], "good"),
                Series("Undelivered or failed", [float(v) for v in line.failed], "bad"),
                Series("Sent, no final status yet", [float(v) for v in on_the_way], "muted"),
            ],
            unit="messages",
            stacked=True,
            description="Each bar is the texts sent that "
            + ("hour" if period.key == "24h" else "day")
            + ", split by what became of them.",
        ),
        "replies": Chart(
            title=f"Replies, opt-outs and opt-ins, {period.label.lower()}",
            labels=labels,
            series=[
                Series("Replies", [float(v) for v in line.replies], "primary"),
                Series("Opt-outs", [float(v) for v in line.opt_outs], "bad"),
                Series("Opt-ins", [float(v) for v in line.opt_ins], "good"),
            ],
            unit="messages",
            kind="line",
        ),
    }
    if costs.fetched_at is not None:
        charts["spend"] = Chart(
            title="Spend by day (UTC)",
            labels=[f"{d.day:%b} {d.day.day}" for d in costs.days],
            series=[
                Series("SMS", [max(float(d.sms), 0.0) for d in costs.days], "primary"),
                Series("MMS", [max(float(d.mms), 0.0) for d in costs.days], "warn"),
            ],
            unit=costs.currency,
            stacked=True,
            value_format="{:,.2f}",
        )
    return charts


class DashboardView(OrganizationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        period = period_of(request.GET.get("period", ""), self.organization)
        figures = overview(self.organization, period)
        costs = spend(
            self.organization,
            start=period.start.astimezone(datetime.UTC).date(),
            end=period.end.astimezone(datetime.UTC).date(),
        )
        context = {
            "period": period,
            "periods": PERIODS,
            "figures": figures,
            "health": connection_health(self.organization),
            "spend": costs,
            "charts": _charts(figures, costs),
            "can_manage": self.can(Role.ADMIN),
        }
        return render(request, "reports/dashboard.html", context)
