"""A large automation's funnel is read as last counted (``FunnelCount``) rather than counted
while its page waits; a count more than a minute old is recounted by the default worker, asked
once however many pages are opened; small automations are counted live."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automations.funnels import funnel
from automations.models import FunnelCount
from messaging.models import Status
from tests.automations.helpers import active, send, template
from tests.automations.insight_helpers import (
    TAG,
    contacts,
    detail_url,
    enrol,
    message_of,
    set_status,
    table,
    text,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

STEPS = [{"id": "s2", "type": "wait", "duration": {"days": 2}}]


@pytest.fixture
def large(monkeypatch):
    """Three enrolments make an automation large here (2,000 in the product)."""
    monkeypatch.setattr(funnel, "COUNT_WHILE_WAITING", 3)


def automation_with(personas, count):
    automation = active(
        personas, trigger=TAG, steps=[send(template(personas), respect_quiet_hours=False), *STEPS]
    )
    people = contacts(personas, count)
    enrol(automation, people)
    return automation, people


def delivered_column(personas, automation):
    return table(personas.client("viewer").get(detail_url(automation)), "funnel")[0][3]


def age(automation, **delta):
    FunnelCount.objects.filter(version=automation.live_version).update(
        counted_at=timezone.now() - datetime.timedelta(**delta)
    )


def test_a_large_funnel_is_counted_once_then_read_as_counted(personas, large):
    automation, people = automation_with(personas, 3)

    first = personas.client("viewer").get(detail_url(automation))
    set_status(message_of(automation, people[0]), Status.DELIVERED)
    second = personas.client("viewer").get(detail_url(automation))

    stored = FunnelCount.objects.get(version=automation.live_version)
    assert sum(row["n"] for row in stored.rows if row["step_id"] == "s1") == 3
    assert stored.recount_asked_at is None
    assert table(first, "funnel")[0][:3] == ["1. send Welcome", "3", "3"]
    assert table(second, "funnel")[0][3] == "0"  # within the minute: as counted
    assert "Counted 0 minutes ago" in text(second)
    assert "at most once a minute while this page is open" in text(second)


def test_a_count_older_than_a_minute_is_recounted_by_the_worker_asked_once(
    personas, large, django_capture_on_commit_callbacks
):
    automation, people = automation_with(personas, 3)
    delivered_column(personas, automation)
    set_status(message_of(automation, people[0]), Status.DELIVERED)
    age(automation, minutes=2)

    with django_capture_on_commit_callbacks(execute=True) as asked:
        stale = delivered_column(personas, automation)  # the page, and the worker after it
    with django_capture_on_commit_callbacks(execute=True) as again:
        fresh = delivered_column(personas, automation)

    assert stale == "0"
    assert fresh == "1"
    assert len(asked) == 1
    assert not again  # counted since: nothing to ask
    stored = FunnelCount.objects.get(version=automation.live_version)
    assert stored.counted_at > timezone.now() - datetime.timedelta(seconds=30)
    assert stored.recount_asked_at is None


def test_a_recount_already_asked_is_not_asked_again(
    personas, large, django_capture_on_commit_callbacks
):
    automation, _ = automation_with(personas, 3)
    delivered_column(personas, automation)
    age(automation, minutes=2)
    asked_at = timezone.now() - datetime.timedelta(seconds=20)
    FunnelCount.objects.update(recount_asked_at=asked_at)

    with django_capture_on_commit_callbacks(execute=True) as asked:
        delivered_column(personas, automation)

    assert not asked
    assert FunnelCount.objects.get().recount_asked_at == asked_at


def test_a_small_funnel_is_counted_live_and_stores_nothing(personas):
    automation, people = automation_with(personas, 3)

    delivered_column(personas, automation)
    set_status(message_of(automation, people[0]), Status.DELIVERED)
    page = personas.client("viewer").get(detail_url(automation))

    assert table(page, "funnel")[0][3] == "1"
    assert "Counted" not in text(page)
    assert not FunnelCount.objects.exists()


def test_a_recount_of_a_version_gone_since_does_nothing(personas):
    from automations.tasks import recount_funnel

    recount_funnel(999_999)

    assert not FunnelCount.objects.exists()


def queries(personas, automation):
    client = personas.client("viewer")
    client.get(detail_url(automation))  # sessions warmed up, and the large count stored
    with CaptureQueriesContext(db) as captured:
        assert client.get(detail_url(automation)).status_code == 200
    return len(captured.captured_queries)


def test_a_page_read_as_counted_costs_no_more_queries_than_one_counted_live(personas, monkeypatch):
    small, _ = automation_with(personas, 3)
    live = queries(personas, small)
    monkeypatch.setattr(funnel, "COUNT_WHILE_WAITING", 3)

    assert queries(personas, small) <= live
    assert FunnelCount.objects.filter(version=small.live_version).exists()
