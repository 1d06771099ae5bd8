"""Retries with backoff for 24 hours, each attempt logged, failing endpoints disabled after
3 days with an e-mail to owners and admins; the beat hands due attempts to workers. Time is
passed in, never slept."""

from __future__ import annotations

import datetime

import pytest
import requests
import responses
from django.core import mail
from django.utils import timezone

from tenants.models import Role
from tenants.outbound.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from tenants.outbound.services.delivery import (
    LEASE,
    deliveries_due,
    delivery_attempt,
)
from tests.factories import make_member
from tests.outbound.conftest import URL, make_endpoint, record_event

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)
SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18000, 36000]


def record(organization) -> WebhookDelivery:
    delivery = record_event(organization, data={"n": 1})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(started_at=T0, next_attempt_at=T0)
    return delivery


def pending(delivery: WebhookDelivery) -> WebhookDelivery:
    return WebhookDelivery.objects.get(event=delivery.event, state=DeliveryState.PENDING)


def test_failures_are_retried_on_the_schedule_then_given_up_after_24_hours(personas, rsps):
    make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=500, body="oops")
    delivery = record(personas.org)
    at, dues = T0, []
    while True:
        state = delivery_attempt(delivery.pk, now=at)
        if state == DeliveryState.GIVEN_UP:
            break
        assert state == DeliveryState.FAILED
        delivery = pending(delivery)
        assert delivery.next_attempt_at is not None
        dues.append(int((delivery.next_attempt_at - at).total_seconds()))
        at = delivery.next_attempt_at
    # 5 s, 5 min, 30 min, 2 h, 5 h, 10 h; the next 10 h would end 27 h 35 min in: given up.
    assert dues == SCHEDULE_SECONDS
    attempts = WebhookDelivery.objects.filter(event=delivery.event).order_by("attempt")
    assert [a.attempt for a in attempts] == [1, 2, 3, 4, 5, 6, 7]
    assert [a.state for a in attempts] == [DeliveryState.FAILED] * 6 + [DeliveryState.GIVEN_UP]
    assert all(a.status_code == 500 and a.response_body == "oops" for a in attempts)
    assert all(a.error == "HTTP 500: the receiver did not accept it." for a in attempts)
    last = attempts.last()
    assert last is not None
    assert last.attempted_at is not None
    assert last.attempted_at - T0 < datetime.timedelta(hours=24)
    assert not WebhookDelivery.objects.filter(state=DeliveryState.PENDING).exists()
    assert len(rsps.calls) == 7


def test_a_success_after_failures_ends_the_retries(personas, rsps):
    endpoint, _ = make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=503)
    rsps.add(responses.POST, URL, status=200, body="ok")
    delivery = record(personas.org)
    assert delivery_attempt(delivery.pk, now=T0) == DeliveryState.FAILED
    endpoint.refresh_from_db()
    assert endpoint.failing_since == T0
    retry = pending(delivery)
    # Not due yet: nobody may take it early.
    assert delivery_attempt(retry.pk, now=T0 + datetime.timedelta(seconds=4)) is None
    assert delivery_attempt(retry.pk, now=T0 + datetime.timedelta(seconds=5)) == "succeeded"
    retry.refresh_from_db()
    assert (retry.attempt, retry.status_code, retry.response_body) == (2, 200, "ok")
    assert retry.next_attempt_at is None
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    assert not WebhookDelivery.objects.filter(state=DeliveryState.PENDING).exists()


def test_each_attempt_keeps_status_duration_and_the_first_kilobyte(personas, rsps):
    make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=422, body="é" * 2000)
    delivery = record(personas.org)
    delivery_attempt(delivery.pk, now=T0)
    delivery.refresh_from_db()
    assert delivery.status_code == 422
    assert delivery.duration_ms is not None
    assert delivery.duration_ms >= 0
    assert delivery.attempted_at == T0
    # 1,024 bytes: 512 two-byte characters.
    assert delivery.response_body == "é" * 512


@pytest.mark.parametrize(
    ("raised", "error"),
    [
        (requests.ConnectTimeout(), "No answer within 10 seconds."),
        (requests.ReadTimeout(), "No answer within 10 seconds."),
        (requests.ConnectionError(), "Could not connect: ConnectionError."),
    ],
)
def test_a_network_failure_is_a_failed_attempt(personas, rsps, raised, error):
    make_endpoint(personas.org)
    rsps.add(responses.POST, URL, body=raised)
    delivery = record(personas.org)
    assert delivery_attempt(delivery.pk, now=T0) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert (delivery.status_code, delivery.error) == (None, error)


def test_two_workers_never_send_one_attempt_twice(personas, rsps):
    make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=200)
    delivery = record(personas.org)
    assert delivery_attempt(delivery.pk, now=T0) == DeliveryState.SUCCEEDED
    assert delivery_attempt(delivery.pk, now=T0) is None
    assert len(rsps.calls) == 1


def test_an_attempt_a_dead_worker_held_is_due_again_after_the_lease(personas, rsps):
    make_endpoint(personas.org)
    delivery = record(personas.org)
    # A worker claimed it, then died before recording anything.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=T0 + LEASE)
    assert delivery_attempt(delivery.pk, now=T0 + datetime.timedelta(seconds=30)) is None
    rsps.add(responses.POST, URL, status=200)
    assert delivery_attempt(delivery.pk, now=T0 + LEASE) == DeliveryState.SUCCEEDED


def test_the_beat_asks_for_a_drain_only_when_something_is_due(
    personas, rsps, django_capture_on_commit_callbacks
):
    make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=200)
    delivery = record(personas.org)  # recorded outside a commit hook: its drain never ran
    # A drain holds it (leased): not due, nothing asked.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=T0 + LEASE)
    assert deliveries_due(now=T0 + datetime.timedelta(seconds=30)) is False
    assert len(rsps.calls) == 0
    # That drain died: once the lease has run out the beat asks for one (eager here).
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=T0)
    assert deliveries_due(now=timezone.now()) is True
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    assert len(rsps.calls) == 1
    assert deliveries_due(now=timezone.now()) is False


def test_a_retry_due_is_picked_up_by_the_beat(personas, rsps):
    make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=500)
    delivery = record(personas.org)
    delivery_attempt(delivery.pk, now=T0)
    retry = pending(delivery)
    assert deliveries_due(now=T0 + datetime.timedelta(seconds=4)) is False
    rsps.replace(responses.POST, URL, status=200)
    # The eager drain claims at the real clock's now, which is after its due time.
    assert deliveries_due(now=timezone.now()) is True
    retry.refresh_from_db()
    assert retry.state == DeliveryState.SUCCEEDED


def test_an_endpoint_failing_for_three_days_is_disabled(personas, rsps):
    make_member(personas.org, Role.ADMIN, "second-admin@a.example.com")
    endpoint, _ = make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=500)
    first = record(personas.org)
    delivery_attempt(first.pk, now=T0)
    endpoint.refresh_from_db()
    assert endpoint.failing_since == T0
    # Events keep coming and failing; 2 days 23 hours on it is still enabled.
    for hours, disabled in ((71, False), (72, True)):
        at = T0 + datetime.timedelta(hours=hours)
        delivery = record(personas.org)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(started_at=at, next_attempt_at=at)
        delivery_attempt(delivery.pk, now=at)
        endpoint.refresh_from_db()
        assert (endpoint.disabled_at is not None) is disabled
    assert endpoint.disabled_at == T0 + datetime.timedelta(hours=72)
    assert endpoint.disabled_reason == (
        "Disabled automatically: every attempt has failed since 2026-12-01 12:00 UTC (3 days)."
    )
    # Its retry is not scheduled: a disabled endpoint gets nothing more.
    assert not WebhookDelivery.objects.filter(
        endpoint=endpoint,
        state=DeliveryState.PENDING,
        started_at__gte=T0 + datetime.timedelta(hours=72),
    ).exists()


def test_the_disable_e_mail_goes_to_owners_and_admins_only(
    personas, rsps, django_capture_on_commit_callbacks
):
    make_member(personas.org, Role.ADMIN, "second-admin@a.example.com")
    endpoint, _ = make_endpoint(personas.org)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=T0)
    rsps.add(responses.POST, URL, status=500)
    delivery = record(personas.org)
    at = T0 + datetime.timedelta(days=3)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(started_at=at, next_attempt_at=at)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        delivery_attempt(delivery.pk, now=at)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == [
        "admin@a.example.com",
        "owner@a.example.com",
        "second-admin@a.example.com",
    ]
    assert message.subject == "Webhook endpoint disabled for Acme A on SMS Hub"
    assert URL in message.body
    assert "every attempt has failed since 2026-12-01 12:00 UTC" in message.body
    assert f"https://hub.example.com/settings/webhooks/{endpoint.public_id}/" in message.body


def test_a_pending_attempt_of_a_disabled_endpoint_is_given_up_unsent(personas, rsps):
    endpoint, _ = make_endpoint(personas.org)
    delivery = record(personas.org)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=T0)
    assert delivery_attempt(delivery.pk, now=T0) == DeliveryState.GIVEN_UP
    delivery.refresh_from_db()
    assert delivery.error == "Not sent: the endpoint is disabled."
    assert len(rsps.calls) == 0
