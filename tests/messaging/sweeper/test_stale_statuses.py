"""A status still unfinished a day after the message was handed to Twilio is fetched from it."""

from __future__ import annotations

import pytest

from messaging.models import Status
from messaging.statuses import explain
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.messaging.sweeper.helpers import (
    FETCH,
    FETCH_URL,
    T0,
    ago,
    done,
    event,
    events,
    handed_over,
    postponed,
    row,
    twilio_fetches,
)

# --- Final statuses that never came ----------------------------------------------------------


@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.QUEUED, Status.SENDING, Status.SENT])
@pytest.mark.django_db
def test_a_stale_status_is_fetched_and_moved_forward(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, status
):
    connect(personas)
    message = handed_over(
        django_capture_on_commit_callbacks,
        personas,
        status=status,
        submitted=ago(hours=25),
        updated=ago(hours=25),
    )
    twilio_fetches(rsps, "delivered")

    assert done(sweep()) == {"fetched": 1}

    assert tw.requests_made(rsps) == [FETCH]
    message.refresh_from_db()
    assert (message.status, message.error_code, message.updated_at) == (
        Status.DELIVERED,
        None,
        T0,
    )
    assert events(message) == ["pending", "status_fetched"]
    fetched = event(message, "status_fetched")
    assert (fetched.error_code, fetched.params) == (None, {"twilio_status": "delivered"})


@pytest.mark.django_db
def test_a_stale_message_found_undelivered_gets_the_error_explained(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    message = handed_over(
        django_capture_on_commit_callbacks, personas, submitted=ago(hours=25), updated=ago(hours=25)
    )
    twilio_fetches(rsps, "undelivered", error_code=30003)

    assert done(sweep()) == {"fetched": 1}

    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.UNDELIVERED, 30003)
    assert message.error_message == explain(30003)
    assert message.error_message == "The handset is unreachable (off, out of coverage, or full)."
    fetched = event(message, "status_fetched")
    assert (fetched.error_code, fetched.params) == (30003, {"twilio_status": "undelivered"})


@pytest.mark.django_db
def test_a_stale_status_twilio_still_reports_is_asked_again_only_a_day_later(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    message = handed_over(
        django_capture_on_commit_callbacks, personas, submitted=ago(hours=25), updated=ago(hours=25)
    )
    twilio_fetches(rsps, "sent")

    assert done(sweep()) == {"fetched": 1}
    message.refresh_from_db()
    assert (message.status, message.updated_at) == (Status.SENT, T0)
    assert events(message) == ["pending", "status_fetched"]

    clock.advance(minutes=1)
    assert done(sweep()) == {}
    assert tw.requests_made(rsps) == [FETCH]


@pytest.mark.django_db
def test_a_stale_message_twilio_no_longer_has_is_noted(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    message = handed_over(
        django_capture_on_commit_callbacks, personas, submitted=ago(hours=25), updated=ago(hours=25)
    )
    rsps.get(FETCH_URL, json=tw.load("error_20404"), status=404)

    assert done(sweep()) == {"fetched": 1}

    assert tw.requests_made(rsps) == [FETCH]
    message.refresh_from_db()
    assert (message.status, message.updated_at) == (Status.SENT, T0)
    assert event(message, "status_fetched").params == {
        "detail": "Twilio no longer has this message"
    }

    clock.advance(minutes=1)
    assert done(sweep()) == {}
    assert tw.requests_made(rsps) == [FETCH]


@pytest.mark.parametrize(
    ("status", "submitted", "updated"),
    [
        pytest.param(Status.SENT, ago(days=8), ago(days=8), id="submitted over a week ago"),
        pytest.param(Status.SENT, ago(hours=25), ago(hours=1), id="updated an hour ago"),
        pytest.param(Status.SENT, ago(hours=23), ago(hours=23), id="submitted under a day ago"),
        pytest.param(Status.DELIVERED, ago(hours=25), ago(hours=25), id="delivered"),
    ],
)
@pytest.mark.django_db
def test_a_status_that_is_recent_final_or_too_old_is_not_fetched(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, status, submitted, updated
):
    connect(personas)
    message = handed_over(
        django_capture_on_commit_callbacks,
        personas,
        status=status,
        submitted=submitted,
        updated=updated,
    )
    before = row(message)

    assert done(sweep()) == {}

    assert tw.requests_made(rsps) == []
    assert row(message) == before
    assert events(message) == ["pending"]


@pytest.mark.django_db
def test_a_twilio_error_during_a_fetch_leaves_the_message_for_the_next_day(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    message = handed_over(
        django_capture_on_commit_callbacks, personas, submitted=ago(hours=25), updated=ago(hours=25)
    )
    before = row(message)
    rsps.get(FETCH_URL, json=tw.error(20500, 500, "Internal Server Error"), status=500)

    assert done(sweep()) == {"twilio_errors": 1}

    assert postponed(message, before)
    assert events(message) == ["pending"]
