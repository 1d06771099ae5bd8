"""The sweeper (step 6): lost tasks, dead workers, unknown outcomes and stale statuses.

Twilio is mocked at the HTTP level; the sweep runs inside ``django_capture_on_commit_callbacks``
so the send tasks it enqueues on commit run (eagerly) as they would in production.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from config.celery import app as celery_app
from connections.models import Connection, ConnectionState, TwilioCredentials
from connections.services.connections import connection_disconnect, twilio_connect
from messaging import ratelimit
from messaging.models import DedupeKey, Message, MessageEvent, Status
from messaging.services import sweeper
from messaging.services.sending import message_send
from messaging.services.submit import MAX_ATTEMPTS, messages_enqueue_due
from messaging.services.sweeper import SweepResult, messages_sweep
from messaging.statuses import explain
from messaging.tasks import sweep_messages
from tenants.actor import Actor
from tests import twilio_mocks as tw
from tests.connections.helpers import connect, credentials_of
from tests.messaging.helpers import (
    MESSAGES_URL,
    Clock,
    connect_sender,
    expected_form,
    forms,
    message_json,
    messages_create,
    messages_refuse,
    send_now,
    unlimited,
)

ALICE = "+14155550123"
T0 = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)
SID = "SM" + "a" * 32
OTHER_SID = "SM" + "b" * 32
NEW_SID = "SM" + "c" * 32

MESSAGES_PATH = f"/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Messages"
LIST = f"GET {MESSAGES_PATH}.json?To=%2B14155550123&From=%2B14155550100&PageSize=50"
LIST_FOR_SERVICE = f"GET {MESSAGES_PATH}.json?To=%2B14155550123&PageSize=50"
CREATE = f"POST {MESSAGES_PATH}.json"
FETCH = f"GET {MESSAGES_PATH}/{SID}.json"
FETCH_URL = f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/Messages/{SID}.json"

Capture = Callable[..., Any]


@pytest.fixture(autouse=True)
def _slots(monkeypatch):
    unlimited(monkeypatch)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, T0)


@pytest.fixture
def sweep(django_capture_on_commit_callbacks) -> Callable[[], SweepResult]:
    """One pass of the sweeper; the send tasks it enqueues run when it commits."""

    def run() -> SweepResult:
        with django_capture_on_commit_callbacks(execute=True):
            return messages_sweep()

    return run


def done(result: SweepResult) -> dict[str, int]:
    """What a pass did: its non-zero counts."""
    return {name: count for name, count in result.counts().items() if count}


def ago(**delta: float) -> datetime.datetime:
    return T0 - datetime.timedelta(**delta)


def events(message: Message) -> list[str]:
    return list(MessageEvent.objects.filter(message=message).values_list("status", flat=True))


def event(message: Message, status: str) -> MessageEvent:
    return MessageEvent.objects.get(message=message, status=status)


def row(message: Message) -> dict[str, Any]:
    return dict(Message.objects.filter(pk=message.pk).values().get())


def postponed(message: Message, before: dict[str, Any]) -> bool:
    """Unchanged but moved to the back of the sweeper's line (``updated_at`` now)."""
    now = row(message)
    return now.pop("updated_at") == T0 and now == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def created(capture: Capture, personas: Any, **kwargs: Any) -> Message:
    """A committed ``pending`` message whose send task was never run (the broker lost it)."""
    kwargs.setdefault("organization", personas.org)
    kwargs.setdefault("to", ALICE)
    kwargs.setdefault("body", "Hi")
    with capture(execute=False):
        message = message_send(source="test", **kwargs)
    assert message.status == Status.PENDING
    return message


def submitting(
    capture: Capture,
    personas: Any,
    *,
    since: datetime.timedelta,
    organization: Any = None,
    **fields: Any,
) -> Message:
    """A message a worker claimed ``since`` ago and never finished (the worker died)."""
    message = created(capture, personas, organization=organization or personas.org)
    fields.setdefault("attempts", 1)
    Message.objects.filter(pk=message.pk).update(
        status=Status.SUBMITTING, enqueued_at=T0 - since, submitted_at=T0 - since, **fields
    )
    message.refresh_from_db()
    return message


def handed_over(
    capture: Capture,
    personas: Any,
    *,
    status: str = Status.SENT,
    submitted: datetime.datetime,
    updated: datetime.datetime,
    sid: str = SID,
    **kwargs: Any,
) -> Message:
    """A message Twilio accepted (it has a SID) whose final status callback never came."""
    message = created(capture, personas, **kwargs)
    Message.objects.filter(pk=message.pk).update(
        status=status,
        sid=sid,
        from_number=tw.NUMBER,
        attempts=1,
        enqueued_at=submitted,
        submitted_at=submitted,
        updated_at=updated,
    )
    message.refresh_from_db()
    return message


def candidate(
    *,
    sid: str,
    created: datetime.datetime,
    body: str = "Hi",
    from_: str | None = tw.NUMBER,
    status: str = "sent",
    service: str | None = None,
) -> dict[str, Any]:
    """One message of Twilio's list to ALICE."""
    return message_json(
        to=ALICE,
        body=body,
        from_=from_,
        sid=sid,
        status=status,
        messaging_service_sid=service,
        created=created,
    )


def twilio_lists(rsps: responses.RequestsMock, *found: dict[str, Any]) -> None:
    """``GET .../Messages.json``: Twilio's list answer (one page, newest first)."""
    uri = f"{MESSAGES_PATH}.json?To=%2B14155550123&PageSize=50&Page=0"
    rsps.get(
        MESSAGES_URL,
        json={
            "messages": list(found),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": 50,
            "previous_page_uri": None,
            "uri": uri,
            "start": 0,
            "end": max(len(found) - 1, 0),
        },
    )


def twilio_fetches(
    rsps: responses.RequestsMock, status: str, *, error_code: int | None = None
) -> None:
    """``GET .../Messages/{SID}.json``: the message as Twilio knows it now."""
    body = message_json(to=ALICE, body="Hi", sid=SID, status=status, created=ago(hours=25))
    if error_code is not None:
        body.update(error_code=error_code, error_message="Unreachable destination handset")
    rsps.get(FETCH_URL, json=body)


def connect_service(personas: Any) -> Connection:
    """Organization A sending through the fixture account's Messaging Service (no number)."""
    with responses.RequestsMock() as mock:
        tw.account(mock)
        tw.messaging_service(mock)
        tw.service_numbers(mock)
        connection = twilio_connect(
            organization=personas.org,
            by=Actor.for_membership(personas.membership("owner")),
            account_sid=tw.ACCOUNT_SID,
            auth_token=tw.AUTH_TOKEN,
            messaging_service_sid=tw.SERVICE_SID,
        )
    ratelimit.reset(f"sender:{connection.pk}")
    return connection


DEAD = datetime.timedelta(minutes=6)


# --- Lost tasks ------------------------------------------------------------------------------


@pytest.mark.parametrize("send_after", [None, ago(minutes=10)], ids=["now", "due earlier"])
@pytest.mark.django_db
def test_a_lost_send_task_is_enqueued_again_and_the_message_sent(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, send_after
):
    connect_sender(personas)
    message = created(django_capture_on_commit_callbacks, personas)
    Message.objects.filter(pk=message.pk).update(enqueued_at=ago(minutes=3), send_after=send_after)
    messages_create(rsps, sid=SID)

    result = sweep()

    assert done(result) == {"requeued": 1}
    message.refresh_from_db()
    assert message.enqueued_at == T0
    assert (message.status, message.sid, message.attempts) == (Status.QUEUED, SID, 1)
    assert events(message) == ["pending", "requeued", "queued"]
    assert event(message, "requeued").params == {"enqueued_at": str(ago(minutes=3))}
    assert tw.requests_made(rsps) == [CREATE]
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"enqueued_at": ago(minutes=1)}, id="enqueued a minute ago"),
        pytest.param(
            {"enqueued_at": ago(minutes=3), "send_after": T0 + datetime.timedelta(minutes=10)},
            id="due later",
        ),
        pytest.param(
            {"enqueued_at": ago(minutes=3), "status": Status.QUEUED, "sid": SID},
            id="not pending",
        ),
    ],
)
@pytest.mark.django_db
def test_a_message_whose_task_may_still_run_is_left_alone(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, fields
):
    connect_sender(personas)
    message = created(django_capture_on_commit_callbacks, personas)
    Message.objects.filter(pk=message.pk).update(**fields)
    before = row(message)

    assert done(sweep()) == {}

    assert row(message) == before
    assert events(message) == ["pending"]
    assert tw.requests_made(rsps) == []


@pytest.mark.django_db
def test_a_message_whose_enqueue_never_ran_is_still_sent(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    """The on-commit enqueue may never run (the process dies right after the commit, or an
    earlier on-commit callback raises): ``enqueued_at`` is stamped with the row, so the sweeper
    finds it two minutes later."""
    connect_sender(personas)
    message = created(django_capture_on_commit_callbacks, personas)  # its callback is dropped
    assert row(message)["enqueued_at"] == T0
    messages_create(rsps, sid=SID)

    for _minute in range(10):  # ten minutes of beat: enqueue-due and the sweeper
        clock.advance(minutes=1)
        with django_capture_on_commit_callbacks(execute=True):
            messages_enqueue_due()
        sweep()

    message.refresh_from_db()
    assert (message.status, message.sid) == (Status.QUEUED, SID), (
        "a pending message never enqueued is never sent: neither beat task picks it up"
    )
    assert tw.requests_made(rsps) == [CREATE]


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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connection = connect_sender(personas)
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
    connect_sender(personas)
    message = submitting(
        django_capture_on_commit_callbacks, personas, since=datetime.timedelta(minutes=4)
    )

    assert done(sweep()) == {}

    assert tw.requests_made(rsps) == []
    assert events(message) == ["pending"]


# --- Unknown outcomes ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_outcome_is_looked_up_after_a_minute_and_adopted(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_service(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connection = connect_sender(personas)
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
    connect_sender(personas)
    message = submitting(django_capture_on_commit_callbacks, personas, since=DEAD)
    stale = handed_over(
        django_capture_on_commit_callbacks, personas, submitted=ago(hours=25), updated=ago(hours=25)
    )
    before = [row(message), row(stale)]

    assert done(messages_sweep(time_budget=-1)) == {}

    assert tw.requests_made(rsps) == []
    assert [row(message), row(stale)] == before


# --- Final statuses that never came ----------------------------------------------------------


@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.QUEUED, Status.SENDING, Status.SENT])
@pytest.mark.django_db
def test_a_stale_status_is_fetched_and_moved_forward(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, status
):
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
    message = handed_over(
        django_capture_on_commit_callbacks, personas, submitted=ago(hours=25), updated=ago(hours=25)
    )
    before = row(message)
    rsps.get(FETCH_URL, json=tw.error(20500, 500, "Internal Server Error"), status=500)

    assert done(sweep()) == {"twilio_errors": 1}

    assert postponed(message, before)
    assert events(message) == ["pending"]


OTHER_ACCOUNT = "AC" + "d" * 32


def connect_other_tenant(personas: Any) -> None:
    """Organization B connected to a second Twilio account (the fixtures describe one)."""
    connect(personas, "outsider")
    ratelimit.reset(f"sender:{credentials_of(personas.other_org).connection_id}")
    TwilioCredentials.objects.filter(connection__organization=personas.other_org).update(
        account_sid=OTHER_ACCOUNT
    )


@pytest.mark.django_db
def test_an_account_whose_fetches_keep_failing_does_not_starve_other_tenants(
    personas, rsps, clock, sweep, monkeypatch, django_capture_on_commit_callbacks
):
    """An account with a batch of stale rows whose Twilio keeps failing (keys rotated: its
    callbacks fail too, so its rows go stale together) must not fill every pass's batch. A
    batch of one stands in for 200 such rows."""
    monkeypatch.setattr(sweeper, "BATCH", 1)
    connect_sender(personas)
    connect_other_tenant(personas)
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
    connect_sender(personas)
    connect_other_tenant(personas)
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


# --- Beat ------------------------------------------------------------------------------------


def test_beat_runs_the_sweeper_every_minute():
    entry = celery_app.conf.beat_schedule["sweep-messages"]
    assert entry["task"] == "messaging.tasks.sweep_messages"
    assert entry["schedule"] == 60.0
    assert "messaging.tasks.sweep_messages" in celery_app.tasks


@pytest.mark.django_db
def test_the_sweep_task_returns_its_counts(personas, clock, django_capture_on_commit_callbacks):
    connect_sender(personas)
    message = created(django_capture_on_commit_callbacks, personas)
    Message.objects.filter(pk=message.pk).update(enqueued_at=ago(minutes=3))

    with django_capture_on_commit_callbacks(execute=False):  # the requeued send is not run
        counts = sweep_messages.delay().get()

    assert counts == {
        "requeued": 1,
        "adopted": 0,
        "resent": 0,
        "gave_up": 0,
        "ambiguous": 0,
        "fetched": 0,
        "twilio_errors": 0,
    }
