"""A message a dead worker left ``submitting``: adopted when Twilio has it, sent again when not,
and left to a person when Twilio has several candidates."""

from __future__ import annotations

import datetime

import pytest

from connections.services.connections import connection_disconnect
from messaging.models import DedupeKey, Message, Status
from messaging.services.submit import MAX_ATTEMPTS
from tenants.actor import Actor
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    messages_create,
    messages_refuse,
    send_now,
)
from tests.messaging.sweeper.helpers import (
    ALICE,
    CREATE,
    DEAD,
    LIST,
    NEW_SID,
    OTHER_SID,
    SID,
    T0,
    ago,
    candidate,
    created,
    done,
    event,
    events,
    submitting,
    twilio_lists,
)

# --- Dead workers: adopt, send again, or ask a person -----------------------------------------


@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(datetime.timedelta(minutes=-2), id="2 min before (edge)"),
        pytest.param(datetime.timedelta(seconds=1), id="just after"),
        pytest.param(datetime.timedelta(minutes=5), id="5 min after (edge)"),
    ],
)
@pytest.mark.django_db
def test_a_dead_workers_message_that_twilio_has_is_adopted_not_sent_again(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, offset
):
    connect(personas)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    twilio_lists(
        rsps,
        candidate(sid=SID, created=message.submitted_at + offset, status="sent"),
        candidate(sid=OTHER_SID, created=ago(days=3), body="Older news"),
    )

    result = sweep()

    assert done(result) == {"adopted": 1}
    assert tw.requests_made(rsps) == [LIST]  # To and From, no date filter, and no create
    message.refresh_from_db()
    assert (message.status, message.sid, message.from_number) == (Status.SENT, SID, tw.NUMBER)
    assert (message.error_code, message.error_message, message.attempts) == (None, "", 1)
    assert events(message) == ["pending", "adopted"]
    assert event(message, "adopted").params == {"sid": SID, "twilio_status": "sent"}


@pytest.mark.django_db
def test_a_dead_workers_message_that_twilio_lacks_is_sent_again_once(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    twilio_lists(rsps)
    messages_create(rsps, sid=NEW_SID)

    result = sweep()

    assert done(result) == {"resent": 1}
    assert tw.requests_made(rsps) == [LIST, CREATE]
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]
    message.refresh_from_db()
    assert (message.status, message.sid, message.attempts) == (Status.QUEUED, NEW_SID, 2)
    assert (message.submitted_at, message.enqueued_at) == (T0, T0)
    assert events(message) == ["pending", "resent", "queued"]
    assert event(message, "resent").params == {"detail": "Twilio has no such message"}


@pytest.mark.django_db
def test_a_message_sent_again_may_use_its_own_dedupe_key_again(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_refuse(rsps, 20500, 500, "Internal Server Error")  # unknown outcome
    message = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="once"
    )
    assert message.status == Status.SUBMITTING
    assert DedupeKey.objects.filter(key="once", message=message).exists()
    twilio_lists(rsps)
    messages_create(rsps, sid=NEW_SID)
    clock.advance(minutes=6)

    assert done(sweep()) == {"resent": 1}

    assert tw.requests_made(rsps) == [CREATE, LIST, CREATE]
    message.refresh_from_db()
    assert (message.status, message.sid, message.attempts) == (Status.QUEUED, NEW_SID, 2)
    assert (message.suppressed_reason, message.error_code, message.error_message) == ("", None, "")
    assert list(
        DedupeKey.objects.filter(organization=personas.org, key="once").values_list(
            "message", flat=True
        )
    ) == [message.pk]
    assert events(message) == ["pending", "unknown_outcome", "resent", "queued"]


@pytest.mark.django_db
def test_a_message_out_of_attempts_fails_instead_of_being_sent_again(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    message = submitting(
        django_capture_on_commit_callbacks, personas, since=DEAD, attempts=MAX_ATTEMPTS
    )
    twilio_lists(rsps)

    assert done(sweep()) == {"gave_up": 1}

    assert tw.requests_made(rsps) == [LIST]
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.error_message == f"Not sent after {MAX_ATTEMPTS} attempts."
    assert message.sid is None
    assert events(message) == ["pending", "failed"]
    assert event(message, "failed").params == {"detail": "gave up", "attempts": MAX_ATTEMPTS}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"body": "Hi!"}, id="other text"),
        pytest.param({"from_": "+14155550101"}, id="other sender"),
        pytest.param(
            {"created": -datetime.timedelta(minutes=2, seconds=1)}, id="created too early"
        ),
        pytest.param({"created": datetime.timedelta(minutes=5, seconds=1)}, id="created too late"),
    ],
)
@pytest.mark.django_db
def test_twilio_messages_that_do_not_match_are_not_adopted(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, changes
):
    connect(personas)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    assert message.submitted_at is not None
    offset = changes.pop("created", datetime.timedelta(seconds=1))
    twilio_lists(rsps, candidate(sid=SID, created=message.submitted_at + offset, **changes))
    messages_create(rsps, sid=NEW_SID)

    assert done(sweep()) == {"resent": 1}

    assert tw.requests_made(rsps) == [LIST, CREATE]
    message.refresh_from_db()
    assert (message.status, message.sid) == (Status.QUEUED, NEW_SID)
    assert events(message) == ["pending", "resent", "queued"]


@pytest.mark.django_db
def test_a_twilio_message_stored_on_another_of_our_messages_is_not_adopted(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    earlier = created(django_capture_on_commit_callbacks, personas)
    Message.objects.filter(pk=earlier.pk).update(
        status=Status.SENT, sid=SID, from_number=tw.NUMBER, submitted_at=ago(minutes=7)
    )
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    twilio_lists(rsps, candidate(sid=SID, created=ago(minutes=7)))
    messages_create(rsps, sid=NEW_SID)

    assert done(sweep()) == {"resent": 1}

    assert tw.requests_made(rsps) == [LIST, CREATE]
    message.refresh_from_db()
    assert (message.status, message.sid) == (Status.QUEUED, NEW_SID)
    assert Message.objects.get(pk=earlier.pk).sid == SID


@pytest.mark.django_db
def test_several_matches_need_a_person_and_are_not_asked_about_again(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    twilio_lists(
        rsps,
        candidate(sid=SID, created=ago(minutes=5, seconds=50)),
        candidate(sid=OTHER_SID, created=ago(minutes=5, seconds=55)),
    )

    assert done(sweep()) == {"ambiguous": 1}

    message.refresh_from_db()
    assert (message.status, message.sid, message.needs_attention) == (
        Status.SUBMITTING,
        None,
        True,
    )
    assert events(message) == ["pending", "needs_attention"]
    assert event(message, "needs_attention").params == {
        "detail": "Twilio has several messages that could be this one.",
        "sids": [SID, OTHER_SID],
    }

    clock.advance(minutes=1)
    assert done(sweep()) == {}
    assert tw.requests_made(rsps) == [LIST]
    assert events(message) == ["pending", "needs_attention"]


@pytest.mark.django_db
def test_a_dead_workers_message_whose_connection_is_gone_needs_a_person(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connection = connect(personas)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    connection_disconnect(
        connection=connection, by=Actor.for_membership(personas.membership("owner"))
    )

    assert done(sweep()) == {"ambiguous": 1}

    assert tw.requests_made(rsps) == []
    message.refresh_from_db()
    assert (message.status, message.needs_attention) == (Status.SUBMITTING, True)
    assert event(message, "needs_attention").params == {
        "detail": "The connection is gone, so Twilio cannot be asked.",
        "sids": [],
    }


@pytest.mark.django_db
def test_a_message_submitting_for_under_five_minutes_without_error_is_left_alone(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect(personas)
    message = submitting(
        django_capture_on_commit_callbacks, personas, since=datetime.timedelta(minutes=4)
    )

    assert done(sweep()) == {}

    assert tw.requests_made(rsps) == []
    assert events(message) == ["pending"]
