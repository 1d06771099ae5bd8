"""The dashboard's figures equal hand-computed values on messages that cross a local midnight
and the US spring-forward night in America/New_York; empty organizations see every panel's
empty state; personas and other organizations."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations.models import AutomationRun, RunState
from connections.models import UsageDay
from contacts.models import ConsentEvent, ConsentKind, ConsentSource
from messaging.models import Direction, Message, Status, SuppressedReason
from reports.health import connection_health
from reports.selectors import overview, period_of
from tenants.sources import Source
from tests.automations.helpers import active, contact, send, template
from tests.connections.helpers import connect
from tests.factories import page_text

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"
# Sunday March 8, 2026: clocks go from 02:00 EST to 03:00 EDT (07:00 UTC).
NOW = datetime.datetime(2026, 3, 10, 15, 0, tzinfo=datetime.UTC)  # Mar 10, 11:00 EDT


def utc(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=datetime.UTC)


def message(org, at, status, *, direction=Direction.OUTBOUND, sid=True, **fields) -> Message:
    row = Message.objects.create(
        organization=org,
        direction=direction,
        to=fields.pop("to", "+14155550101"),
        body="Hi",
        status=status,
        segments=fields.pop("segments", 1),
        sid=f"SM{Message.objects.count():032x}" if sid else None,
        **fields,
    )
    Message.objects.filter(pk=row.pk).update(created_at=at)
    return row


@pytest.fixture
def new_york(personas):
    personas.org.time_zone = NEW_YORK
    personas.org.save(update_fields=["time_zone"])
    return personas.org


def fixture(org) -> None:
    """Local days (New York) in the comments."""
    message(org, utc(8, 4, 30), Status.DELIVERED)  # Mar 7 23:30 EST
    message(org, utc(8, 6, 30), Status.DELIVERED, segments=2)  # Mar 8 01:30 EST
    message(org, utc(8, 7, 30), Status.UNDELIVERED, error_code=30003)  # Mar 8 03:30 EDT
    message(org, utc(9, 3, 30), Status.FAILED, error_code=30034)  # Mar 8 23:30 EDT
    message(org, utc(9, 4, 30), Status.QUEUED)  # Mar 9 00:30 EDT
    message(
        org,
        utc(9, 5),
        Status.SUPPRESSED,
        sid=False,
        suppressed_reason=SuppressedReason.OPTED_OUT,
    )  # Mar 9, not sent
    message(org, utc(9, 12), Status.RECEIVED, direction=Direction.INBOUND, sid=False)  # a reply
    message(org, utc(2, 12), Status.DELIVERED)  # Mar 2: before the 7 days


def test_figures_by_local_day_across_midnight_and_the_dst_change(new_york):
    fixture(new_york)
    period = period_of("7d", new_york, NOW)
    assert [b.label for b in period.buckets] == [
        "Mar 4",
        "Mar 5",
        "Mar 6",
        "Mar 7",
        "Mar 8",
        "Mar 9",
        "Mar 10",
    ]
    # Mar 8 is 23 hours long: 05:00 UTC to 04:00 UTC the next day.
    assert (period.buckets[4].start, period.buckets[4].end) == (utc(8, 5), utc(9, 4))
    figures = overview(new_york, period)
    line = figures.timeline
    assert line.sent == [0, 0, 0, 1, 3, 1, 0]
    assert line.delivered == [0, 0, 0, 1, 1, 0, 0]
    assert line.failed == [0, 0, 0, 0, 2, 0, 0]
    assert line.replies == [0, 0, 0, 0, 0, 1, 0]
    totals = figures.totals
    assert (totals.sent, totals.delivered, totals.failed, totals.segments) == (5, 2, 2, 6)
    assert totals.delivery_rate == 0.5  # 2 of the 4 with an outcome; the queued one waits
    assert totals.suppressed == {"opted_out": 1}
    assert figures.replies == 1
    errors = [(e.code, e.status, e.count) for e in figures.errors]
    assert sorted(errors) == [(30003, "undelivered", 1), (30034, "failed", 1)]
    a2p = next(e for e in figures.errors if e.code == 30034)
    assert "A2P 10DLC" in a2p.meaning
    assert a2p.what_to_do.startswith("Register the number for A2P 10DLC")


def test_the_last_24_hours_by_local_hour(new_york):
    fixture(new_york)
    message(new_york, utc(10, 14, 59), Status.DELIVERED)  # 10:59 EDT
    period = period_of("24h", new_york, NOW)
    assert period.buckets[-1].label == "11:00"  # 15:00 UTC is 11:00 EDT
    assert period.buckets[0].start == utc(9, 16)
    figures = overview(new_york, period)
    assert figures.timeline.delivered[-2] == 1  # 14:00 UTC, 10:00 EDT
    assert figures.totals.sent == 1
    assert figures.replies == 0  # Mar 9 12:00 UTC is more than 24 hours ago


def test_opt_outs_and_ins_and_their_attribution(personas, new_york):
    connect(personas)
    welcome = template(personas)
    automation = active(
        personas, trigger={"type": "manual"}, steps=[send(welcome)], name="Spring sale"
    )
    ada = contact(personas)
    sent = message(
        new_york,
        utc(9, 15),
        Status.DELIVERED,
        to=ada.phone,
        template=welcome,
        source=Source.AUTOMATION,
        source_ref=str(automation.public_id),
    )
    version = automation.live_version
    assert version is not None  # active: it has one
    run = AutomationRun.objects.create(
        organization=new_york,
        automation=automation,
        version=version,
        contact=ada,
        occurrence_key="once",
        state=RunState.COMPLETED,
    )
    AutomationRun.objects.filter(pk=run.pk).update(created_at=utc(9, 15))
    for kind, at in ((ConsentKind.OPT_OUT, utc(9, 16)), (ConsentKind.OPT_IN, utc(10, 1))):
        event = ConsentEvent.objects.create(
            organization=new_york,
            phone=ada.phone,
            contact=ada,
            kind=kind,
            source=ConsentSource.INBOUND_KEYWORD,
        )
        ConsentEvent.objects.filter(pk=event.pk).update(created_at=at)
    assert sent.sid
    figures = overview(new_york, period_of("7d", new_york, NOW))
    assert (figures.opt_outs, figures.opt_ins) == (1, 1)
    assert figures.timeline.opt_outs == [0, 0, 0, 0, 0, 1, 0]  # Mar 9 12:00 EDT
    assert figures.timeline.opt_ins == [0, 0, 0, 0, 0, 1, 0]  # Mar 9 21:00 EDT
    (funnel,) = figures.automations
    assert (funnel.name, funnel.entered, funnel.tally.sent, funnel.tally.delivered) == (
        "Spring sale",
        1,
        1,
        1,
    )
    assert (funnel.opt_outs, funnel.opt_out_rate, funnel.flagged) == (1, 1.0, False)  # 1 text
    (by_template,) = figures.templates
    assert (by_template.name, by_template.opt_outs) == ("Welcome", 1)


def test_a_high_opt_out_rate_is_flagged(personas, new_york):
    welcome = template(personas)
    for n in range(60):
        message(new_york, utc(9, 15), Status.DELIVERED, to=f"+1415555{n:04d}", template=welcome)
    for n in range(3):  # 5% of 60
        event = ConsentEvent.objects.create(
            organization=new_york,
            phone=f"+1415555{n:04d}",
            kind=ConsentKind.OPT_OUT,
            source=ConsentSource.INBOUND_KEYWORD,
        )
        ConsentEvent.objects.filter(pk=event.pk).update(created_at=utc(9, 16))
    (funnel,) = overview(new_york, period_of("7d", new_york, NOW)).templates
    assert (funnel.tally.sent, funnel.opt_outs, funnel.flagged) == (60, 3, True)


def test_the_page_shows_the_figures_and_charts(personas, new_york):
    connect(personas)
    now = datetime.datetime.now(datetime.UTC)
    for days in (1, 20):
        message(new_york, now - datetime.timedelta(days=days), Status.DELIVERED)
    message(new_york, now - datetime.timedelta(hours=2), Status.FAILED, error_code=30007)
    welcome = template(personas, name='Spring <script>alert("x")</script>')
    message(new_york, now - datetime.timedelta(hours=3), Status.DELIVERED, template=welcome)
    response = personas.client("viewer").get("/?period=30d")
    raw = response.content.decode()
    assert "Spring &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</a>" in raw  # its funnel
    assert "<script>alert" not in raw
    page = page_text(response)
    assert "You are viewer · Last 30 days, in America/New_York time" in page
    assert "Why texts failed" in page
    assert "30007" in page
    assert "Register your sender (A2P 10DLC or toll-free verification)" in page
    assert 'role="img"' in page  # the SVG charts
    assert "Table view" in page
    assert "No spend figures yet" in page  # never fetched from Twilio


def test_spend_from_usage_records(personas, new_york):
    row = connect(personas)
    today = datetime.datetime.now(datetime.UTC).date()
    UsageDay.objects.create(
        connection=row,
        day=today,
        category="sms",
        count=10,
        usage=12,
        price=Decimal("0.099600"),
        price_unit="USD",
        fetched_at=datetime.datetime.now(datetime.UTC),
    )
    page = page_text(personas.client("marketer").get("/"))
    assert "0.10 <small>USD</small>" in page
    assert "Spend by day (UTC)" in page


def test_an_empty_organization_sees_every_panel_empty(personas):
    page = page_text(personas.client("owner").get("/"))
    for text in (
        "Getting started",
        "Nothing was sent or received last 7 days",
        "No undelivered or failed texts last 7 days",
        "No automation sent anything or enrolled anyone last 7 days",
        "No text from a template last 7 days",
        "No Twilio connection yet",
        "No spend figures yet",
    ):
        assert text in page


def test_connection_health_warns_of_rising_failures(personas, new_york):
    connect(personas)
    now = datetime.datetime.now(datetime.UTC)
    for n in range(40):  # the day before: 1 in 40 failed
        status = Status.FAILED if n == 0 else Status.DELIVERED
        message(
            new_york,
            now - datetime.timedelta(hours=5),
            status,
            error_code=30007 if n == 0 else None,
        )
    for n in range(20):  # the last hour: 10 of 20
        status = Status.FAILED if n % 2 else Status.DELIVERED
        message(
            new_york,
            now - datetime.timedelta(minutes=10),
            status,
            error_code=30007 if n % 2 else None,
        )
    health = connection_health(new_york, now)
    assert (health.failure_rate_hour, health.failure_rate_day, health.rising) == (0.5, 0.025, True)
    page = page_text(personas.client("viewer").get("/"))
    assert 'data-warning="failures_rising"' in page


@pytest.mark.parametrize("persona", ["owner", "admin", "marketer", "viewer"])
def test_every_member_sees_only_their_organizations_figures(personas, persona):
    message(
        personas.other_org, datetime.datetime.now(datetime.UTC), Status.FAILED, error_code=30005
    )
    page = page_text(personas.client(persona).get("/"))
    assert "<h1>Acme A</h1>" in page
    assert "30005" not in page
    assert "No undelivered or failed texts" in page


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_dashboard_reads_a_fixed_number_of_queries(personas, new_york):
    connect(personas)
    welcome = template(personas)

    def queries() -> int:
        client = personas.client("viewer")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/?period=30d").status_code == 200
        return len(captured)

    message(new_york, utc(9, 15), Status.DELIVERED, template=welcome)
    few = queries()
    for n in range(40):
        message(
            new_york,
            utc(9, 15) - datetime.timedelta(hours=n * 7),
            Status.DELIVERED,
            template=welcome,
        )
    assert queries() == few
