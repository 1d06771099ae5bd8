"""The drain: due deliveries claimed a batch at a time and posted in lanes per endpoint; a
receiver that does not answer costs one attempt per lane; rows a lane could not start within
the lease are released; a drain is asked for once per stream of commits, and lingers so that
a process may skip asking again."""

from __future__ import annotations

import datetime
import json

import pytest
import requests
import responses
from django.db import transaction
from django.utils import timezone

from tenants.outbound.models import DeliveryState, WebhookDelivery
from tenants.outbound.services import delivery as drain
from tenants.outbound.services import event_record, events
from tenants.outbound.services.delivery import NOT_TRIED, deliveries_drain
from tests.outbound.conftest import URL, make_endpoint

pytestmark = pytest.mark.django_db

OTHER = "https://other.example.com/hook"


def record_many(organization, count: int) -> None:
    """Events recorded without asking for a drain (as if the ask were lost)."""
    for n in range(count):
        event_record(organization_id=organization.pk, type="message.status_changed", data={"n": n})


@pytest.fixture
def asks(monkeypatch) -> list[int]:
    """The drains asked for (published), not run."""
    published: list[int] = []
    monkeypatch.setattr(
        "tenants.outbound.tasks.deliver_webhooks.delay", lambda: published.append(1)
    )
    return published


def test_one_drain_posts_every_due_delivery_to_every_endpoint(personas, rsps, asks):
    make_endpoint(personas.org)
    make_endpoint(personas.org, url=OTHER)
    record_many(personas.org, 130)  # more than a batch
    rsps.add(responses.POST, URL, status=204)
    rsps.add(responses.POST, OTHER, status=200, body="thanks")
    assert deliveries_drain() == 260
    assert WebhookDelivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 260
    assert not WebhookDelivery.objects.exclude(state=DeliveryState.SUCCEEDED).exists()
    posted = [json.loads(call.request.body)["data"]["n"] for call in rsps.calls]
    assert sorted(posted) == sorted([*range(130), *range(130)])
    other = WebhookDelivery.objects.filter(endpoint__url=OTHER)
    assert set(other.values_list("status_code", "response_body", "error")) == {(200, "thanks", "")}
    assert all(d.attempted_at is not None for d in other)


def test_a_receiver_that_does_not_answer_costs_one_attempt_per_lane(
    personas, rsps, asks, monkeypatch
):
    monkeypatch.setattr(drain, "POSTERS", 1)  # one lane per endpoint
    make_endpoint(personas.org)
    make_endpoint(personas.org, url=OTHER)
    record_many(personas.org, 5)
    rsps.add(responses.POST, URL, body=requests.ConnectionError())
    rsps.add(responses.POST, OTHER, status=204)
    deliveries_drain()
    down = WebhookDelivery.objects.filter(endpoint__url=URL, attempt=1).order_by("pk")
    assert [d.error for d in down] == ["Could not connect: ConnectionError."] + [NOT_TRIED] * 4
    assert {d.state for d in down} == {DeliveryState.FAILED}
    assert len([c for c in rsps.calls if c.request.url == URL]) == 1
    # Each is retried on the schedule, 5 seconds on.
    retries = WebhookDelivery.objects.filter(endpoint__url=URL, state=DeliveryState.PENDING)
    assert retries.count() == 5
    assert {r.attempt for r in retries} == {2}
    # The other endpoint got all five.
    assert WebhookDelivery.objects.filter(endpoint__url=OTHER, state="succeeded").count() == 5


def test_rows_a_lane_could_not_start_within_the_lease_are_released(
    personas, rsps, asks, monkeypatch
):
    make_endpoint(personas.org)
    record_many(personas.org, 3)
    monkeypatch.setattr(drain, "POST_DEADLINE", -1.0)  # the lease is as good as over
    before = timezone.now()
    assert deliveries_drain(budget_seconds=0.5) == 0
    assert len(rsps.calls) == 0
    rows = WebhookDelivery.objects.all()
    assert {r.state for r in rows} == {DeliveryState.PENDING}
    assert all(r.attempted_at is None for r in rows)
    assert all(r.next_attempt_at is not None and r.next_attempt_at >= before for r in rows)
    # Due at once: the next drain takes them (the budget spent, this one asked for it).
    assert asks == [1]


def test_commits_ask_for_one_drain_until_it_starts(
    personas, asks, django_capture_on_commit_callbacks
):
    make_endpoint(personas.org)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            record_many(personas.org, 1)
    assert asks == [1]  # one is waiting to start: it will read all three
    events.wake_clear()  # it started
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        record_many(personas.org, 1)
    assert asks == [1, 1]


def test_a_process_that_just_asked_does_not_ask_again(personas, asks, monkeypatch):
    monkeypatch.setattr(events, "WAKE_SKIP", 60.0)
    events.wake()
    events.wake_clear()  # the drain started: another ask would publish
    events.wake()
    assert asks == [1]  # it lingers: it will still read what this process commits now


def test_a_lingering_drain_takes_what_is_committed_meanwhile(personas, rsps, asks, monkeypatch):
    make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=204)
    monkeypatch.setattr(events, "DRAIN_LINGER", 30.0)
    looks = []

    class Clock:
        """The drain's time: each poll's sleep records an event the first time, then moves
        the clock past the linger."""

        offset = 0.0

        def monotonic(self) -> float:
            return datetime.datetime.now(datetime.UTC).timestamp() + self.offset

        def sleep(self, seconds: float) -> None:
            looks.append(seconds)
            if len(looks) == 1:
                record_many(personas.org, 1)
            else:
                self.offset += 31.0

    monkeypatch.setattr(drain, "time", Clock())
    assert deliveries_drain() == 1
    assert len(rsps.calls) == 1
    assert looks == [drain.POLL_SECONDS, drain.POLL_SECONDS]
