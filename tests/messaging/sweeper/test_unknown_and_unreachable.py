"""Unknown outcomes, Messaging Service senders, and a Twilio that does not answer: nothing is
sent twice and no account starves the others."""

from __future__ import annotations

import datetime

import pytest
import requests

from connections.models import ConnectionState, TwilioCredentials
from messaging.models import Status
from messaging.services import sweeper
from messaging.services.sweeper import messages_sweep
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    MESSAGES_URL,
    message_json,
    messages_refuse,
    send_now,
)
from tests.messaging.sweeper.helpers import (
    ALICE,
    CREATE,
    DEAD,
    FETCH_URL,
    LIST,
    LIST_FOR_SERVICE,
    OTHER_ACCOUNT,
    OTHER_SID,
    SID,
    T0,
    ago,
    candidate,
    done,
    events,
    handed_over,
    postponed,
    row,
    submitting,
    twilio_lists,
)

# --- Unknown outcomes ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_outcome_is_looked_up_after_a_minute_and_adopted(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_refuse(rsps, 20500, 500, "Internal Server Error")
    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")
    assert (message.status, message.error_message) == (Status.SUBMITTING, "Internal Server Error")
    twilio_lists(rsps, candidate(sid=SID, created=T0 + datetime.timedelta(seconds=1)))
    clock.advance(seconds=90)

    assert done(sweep()) == {"adopted": 1}

    assert tw.requests_made(rsps) == [CREATE, LIST]
    message.refresh_from_db()
    assert (message.status, message.sid) == (Status.SENT, SID)
    assert (message.error_code, message.error_message) == (None, "")
    assert events(message) == ["pending", "unknown_outcome", "adopted"]


@pytest.mark.django_db
def test_the_sender_recorded_with_the_claim_is_looked_for_after_the_connection_changed(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_refuse(rsps, 20500, 500, "Internal Server Error")
    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")
    assert message.from_number == tw.NUMBER
    TwilioCredentials.objects.filter(connection__organization=personas.org).update(
        phone_number="+14155550101"
    )
    twilio_lists(rsps, candidate(sid=SID, created=T0 + datetime.timedelta(seconds=1)))
    clock.advance(seconds=90)

    assert done(sweep()) == {"adopted": 1}

    assert tw.requests_made(rsps) == [CREATE, LIST]  # From=+14155550100, as sent


@pytest.mark.django_db
def test_an_unknown_outcome_is_not_looked_up_within_the_first_minute(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_refuse(rsps, 20500, 500, "Internal Server Error")
    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")
    clock.advance(seconds=30)

    assert done(sweep()) == {}

    assert tw.requests_made(rsps) == [CREATE]
    message.refresh_from_db()
    assert message.status == Status.SUBMITTING
    assert events(message) == ["pending", "unknown_outcome"]


# --- A Messaging Service sender --------------------------------------------------------------


@pytest.mark.django_db
def test_a_messaging_service_message_is_listed_without_from_and_matched_on_the_service(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas, sender=tw.SERVICE_SID)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    twilio_lists(
        rsps,
        # Sent from the same number, but directly, not through the service: not ours.
        candidate(sid=OTHER_SID, created=ago(minutes=5, seconds=50)),
        candidate(
            sid=SID, created=ago(minutes=5, seconds=55), status="delivered", service=tw.SERVICE_SID
        ),
    )

    assert done(sweep()) == {"adopted": 1}

    assert tw.requests_made(rsps) == [LIST_FOR_SERVICE]
    message.refresh_from_db()
    assert (message.status, message.sid) == (Status.DELIVERED, SID)
    assert (message.messaging_service_sid, message.from_number) == (tw.SERVICE_SID, tw.NUMBER)


# --- Twilio unreachable ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            {"body": requests.ConnectionError("NewConnectionError: Connection refused")},
            id="connection refused",
        ),
        pytest.param(
            {"json": tw.error(20500, 500, "Internal Server Error"), "status": 500}, id="HTTP 500"
        ),
    ],
)
@pytest.mark.django_db
def test_a_message_stays_as_it_is_when_twilio_cannot_be_asked(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, answer
):
    connect(personas)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    before = row(message)
    rsps.get(MESSAGES_URL, **answer)

    result = sweep()

    assert done(result) == {"twilio_errors": 1}
    assert result.unreachable == {tw.ACCOUNT_SID}
    assert tw.requests_made(rsps) == [LIST]
    assert row(message) == before
    assert events(message) == ["pending"]


@pytest.mark.django_db
def test_an_account_twilio_did_not_answer_for_is_not_asked_again_in_the_same_pass(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    first = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    second = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    stale = handed_over(
        django_capture_on_commit_callbacks, personas, submitted=ago(hours=25), updated=ago(hours=25)
    )
    rsps.get(MESSAGES_URL, body=requests.ReadTimeout("Read timed out. (read timeout=10.0)"))
    before = [row(first), row(second), row(stale)]

    assert done(sweep()) == {"twilio_errors": 1}

    assert tw.requests_made(rsps) == [LIST]
    assert postponed(first, before[0])
    assert postponed(second, before[1])
    assert postponed(stale, before[2])


@pytest.mark.django_db
def test_twilio_refusing_the_keys_during_a_sweep_marks_the_connection_failing(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connection = connect(personas)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    before = row(message)
    rsps.get(MESSAGES_URL, json=tw.load("error_20003"), status=401)

    assert done(sweep()) == {"twilio_errors": 1}

    connection.refresh_from_db()
    assert connection.state == ConnectionState.FAILING
    assert connection.last_error == "Twilio refused the Account SID and Auth Token."
    assert row(message) == before


@pytest.mark.django_db
def test_a_pass_out_of_time_leaves_twilio_lookups_for_the_next_pass(
    personas, rsps, clock, django_capture_on_commit_callbacks
):
    connect(personas)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    stale = handed_over(
        django_capture_on_commit_callbacks, personas, submitted=ago(hours=25), updated=ago(hours=25)
    )
    before = [row(message), row(stale)]

    assert done(messages_sweep(time_budget=-1)) == {}

    assert tw.requests_made(rsps) == []
    assert [row(message), row(stale)] == before


@pytest.mark.django_db
def test_an_account_whose_fetches_keep_failing_does_not_starve_other_tenants(
    personas, rsps, clock, sweep, monkeypatch, django_capture_on_commit_callbacks
):
    """An account with a batch of stale rows whose Twilio keeps failing (keys rotated: its
    callbacks fail too, so its rows go stale together) must not fill every pass's batch. A
    batch of one stands in for 200 such rows."""
    monkeypatch.setattr(sweeper, "BATCH", 1)
    connect(personas)
    connect(personas, "outsider", account_sid=OTHER_ACCOUNT)
    handed_over(
        django_capture_on_commit_callbacks, personas, submitted=ago(hours=26), updated=ago(hours=26)
    )
    other = handed_over(
        django_capture_on_commit_callbacks,
        personas,
        organization=personas.other_org,
        sid=OTHER_SID,
        submitted=ago(hours=25),
        updated=ago(hours=25),
    )
    rsps.get(FETCH_URL, json=tw.load("error_20003"), status=401)
    rsps.get(
        f"{tw.API}/Accounts/{OTHER_ACCOUNT}/Messages/{OTHER_SID}.json",
        json=message_json(to=ALICE, body="Hi", sid=OTHER_SID, status="delivered"),
    )

    for _minute in range(5):
        sweep()
        clock.advance(minutes=1)

    other.refresh_from_db()
    assert other.status == Status.DELIVERED, (
        "another tenant's stale message is never fetched while one account's fetches fail"
    )


@pytest.mark.django_db
def test_an_account_whose_lists_keep_failing_does_not_starve_other_tenants(
    personas, rsps, clock, sweep, monkeypatch, django_capture_on_commit_callbacks
):
    """The same for dead workers and unknown outcomes: rows Twilio could not be asked about
    go to the back of the line."""
    monkeypatch.setattr(sweeper, "BATCH", 1)
    connect(personas)
    connect(personas, "outsider", account_sid=OTHER_ACCOUNT)
    submitting(django_capture_on_commit_callbacks, personas, since=datetime.timedelta(minutes=7))
    other = submitting(
        django_capture_on_commit_callbacks, personas, since=DEAD, organization=personas.other_org
    )
    rsps.get(MESSAGES_URL, json=tw.load("error_20003"), status=401)
    rsps.get(
        f"{tw.API}/Accounts/{OTHER_ACCOUNT}/Messages.json",
        json={"messages": [], "next_page_uri": None, "page": 0, "page_size": 50, "start": 0},
    )

    for _minute in range(5):
        sweep()
        clock.advance(minutes=1)

    other.refresh_from_db()
    assert other.status != Status.SUBMITTING, (
        "another tenant's dead-worker message is never reconciled while one account fails"
    )
