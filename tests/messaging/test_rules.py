"""The rules every send obeys (DESIGN.md, "A message's life", step 1): each one and its reason."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from connections.models import ConnectionState
from connections.services.connections import connection_disconnect
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_in, consent_opt_out
from messaging.models import DedupeKey, Message, MessageEvent, Status, SuppressedReason
from messaging.services.sending import message_send
from templates_sms.services import template_create
from tenants.actor import Actor
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    Clock,
    connect_sender,
    expected_form,
    forms,
    make_contact,
    messages_create,
    messages_refuse,
    send_now,
    unlimited,
)

pytestmark = pytest.mark.django_db

ALICE = "+14155550123"
BOB = "+14155550177"


@pytest.fixture(autouse=True)
def _slots(monkeypatch):
    unlimited(monkeypatch)


def events(message: Message) -> list[tuple[str, dict]]:
    return [(e.status, e.params) for e in MessageEvent.objects.filter(message=message)]


def assert_suppressed(message: Message, reason: str) -> None:
    message.refresh_from_db()
    assert (message.status, message.suppressed_reason) == (Status.SUPPRESSED, reason)
    assert message.send_after is None
    assert message.submitted_at is None
    assert message.enqueued_at is None
    assert message.attempts == 0
    assert message.sid is None
    assert events(message) == [(Status.SUPPRESSED, {"reason": reason})]


# --- Opted out ------------------------------------------------------------------------------


def test_it_suppresses_a_message_to_an_opted_out_number(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    alice = make_contact(personas, ALICE)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)

    message = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Hi")

    assert_suppressed(message, SuppressedReason.OPTED_OUT)
    assert message.to == ALICE
    assert forms(rsps) == []


def test_it_suppresses_an_opted_out_number_given_as_a_number_in_any_format(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)

    message = send_now(django_capture_on_commit_callbacks, personas, to="(415) 555-0123", body="Hi")

    assert_suppressed(message, SuppressedReason.OPTED_OUT)
    assert message.to == ALICE
    assert forms(rsps) == []


def test_it_sends_again_to_a_number_that_opted_back_in(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    alice = make_contact(personas, ALICE)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
    consent_opt_in(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
    messages_create(rsps)

    message = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Hi")

    assert message.status == Status.QUEUED
    assert message.suppressed_reason == ""
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]


# --- Invalid number -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (21211, "The 'To' number +14155550123 is not a valid phone number."),
        (21614, "'To' number is not a valid mobile number"),
    ],
)
def test_it_suppresses_a_number_twilio_rejected_before(
    personas, rsps, django_capture_on_commit_callbacks, code, text
):
    connect_sender(personas)
    alice = make_contact(personas, ALICE)
    messages_refuse(rsps, code, 400, text)
    first = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="One")
    assert (first.status, first.error_code) == (Status.FAILED, code)

    second = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Two")

    assert_suppressed(second, SuppressedReason.INVALID_NUMBER)
    assert len(forms(rsps)) == 1  # only the first message reached Twilio


def test_it_does_not_treat_other_refusals_as_an_invalid_number(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    alice = make_contact(personas, ALICE)
    messages_refuse(rsps, 21612, 400, "The 'To' phone number is not currently reachable.")
    messages_create(rsps)
    first = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="One")
    assert (first.status, first.error_code) == (Status.FAILED, 21612)

    second = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Two")

    assert second.status == Status.QUEUED
    assert forms(rsps)[1] == expected_form(second, to=ALICE, body="Two")


def test_it_keeps_invalid_numbers_per_organization(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    connect(personas, "outsider")  # organization B, on the same Twilio account
    alice = make_contact(personas, ALICE)
    messages_refuse(rsps, 21211, 400, "The 'To' number is not a valid phone number.")
    send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="One")

    other = message_send(organization=personas.other_org, to=ALICE, body="Hi", source="test")

    assert (other.status, other.suppressed_reason) == (Status.PENDING, "")


# --- No working connection ------------------------------------------------------------------


def test_it_suppresses_when_no_connection_exists(
    personas, rsps, django_capture_on_commit_callbacks
):
    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert_suppressed(message, SuppressedReason.NO_CONNECTION)
    assert message.connection is None
    assert forms(rsps) == []


def test_it_suppresses_when_the_connection_is_disconnected(
    personas, rsps, django_capture_on_commit_callbacks
):
    connection = connect_sender(personas)
    connection_disconnect(
        connection=connection, by=Actor.for_membership(personas.membership("owner"))
    )
    connection.refresh_from_db()
    assert connection.state == ConnectionState.DISCONNECTED

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert_suppressed(message, SuppressedReason.NO_CONNECTION)
    assert forms(rsps) == []


def test_it_still_sends_through_a_failing_connection(
    personas, rsps, django_capture_on_commit_callbacks
):
    connection = connect_sender(personas)
    connection.state = ConnectionState.FAILING
    connection.save(update_fields=["state"])
    messages_create(rsps)

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert message.status == Status.QUEUED
    assert message.connection_id == connection.pk
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]


# --- Dedupe key -----------------------------------------------------------------------------


def test_it_suppresses_a_dedupe_key_already_used_by_a_sent_message(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    alice = make_contact(personas, ALICE)
    messages_create(rsps)
    first = send_now(
        django_capture_on_commit_callbacks, personas, contact=alice, body="Hi", dedupe_key="welcome"
    )
    assert first.status == Status.QUEUED
    assert list(DedupeKey.objects.values_list("organization", "key", "message")) == [
        (personas.org.pk, "welcome", first.pk)
    ]

    second = send_now(
        django_capture_on_commit_callbacks, personas, contact=alice, body="Hi", dedupe_key="welcome"
    )

    assert_suppressed(second, SuppressedReason.DUPLICATE)
    assert len(forms(rsps)) == 1


def test_it_suppresses_a_dedupe_key_held_by_a_message_still_on_its_way(personas, rsps):
    connect_sender(personas)
    alice = make_contact(personas, ALICE)
    later = datetime.timedelta(hours=1)

    first = message_send(
        organization=personas.org,
        contact=alice,
        body="Hi",
        dedupe_key="welcome",
        send_after=timezone.now() + later,
        source="test",
    )
    assert first.status == Status.PENDING

    second = message_send(
        organization=personas.org, contact=alice, body="Hi", dedupe_key="welcome", source="test"
    )

    assert_suppressed(second, SuppressedReason.DUPLICATE)


def test_it_does_not_use_up_a_dedupe_key_of_a_suppressed_message(
    personas, rsps, django_capture_on_commit_callbacks
):
    first = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="welcome"
    )
    assert first.suppressed_reason == SuppressedReason.NO_CONNECTION
    connect_sender(personas)
    messages_create(rsps)

    second = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="welcome"
    )

    assert second.status == Status.QUEUED
    assert forms(rsps) == [expected_form(second, to=ALICE, body="Hi")]
    assert list(DedupeKey.objects.values_list("key", "message")) == [("welcome", second.pk)]


def test_it_does_not_use_up_a_dedupe_key_of_a_message_that_failed_permanently(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    messages_refuse(rsps, 21612, 400, "The 'To' phone number is not currently reachable.")
    messages_create(rsps)
    first = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="welcome"
    )
    assert (first.status, first.error_code) == (Status.FAILED, 21612)
    assert not DedupeKey.objects.exists()

    second = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="welcome"
    )

    assert second.status == Status.QUEUED
    assert len(forms(rsps)) == 2
    assert list(DedupeKey.objects.values_list("key", "message")) == [("welcome", second.pk)]


def test_it_keeps_dedupe_keys_per_organization(personas, rsps, django_capture_on_commit_callbacks):
    connect_sender(personas)
    connect(personas, "outsider")  # organization B, on the same Twilio account
    messages_create(rsps)
    send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="k")

    other = message_send(
        organization=personas.other_org, to=ALICE, body="Hi", dedupe_key="k", source="test"
    )

    assert (other.status, other.suppressed_reason) == (Status.PENDING, "")


# --- Frequency cap --------------------------------------------------------------------------


def cap(personas, n: int | None) -> None:
    personas.org.frequency_cap = n
    personas.org.save(update_fields=["frequency_cap"])


def test_it_suppresses_the_third_message_in_24_hours_with_a_cap_of_two(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    cap(personas, 2)
    alice = make_contact(personas, ALICE)
    messages_create(rsps)
    sent = [
        send_now(django_capture_on_commit_callbacks, personas, contact=alice, body=f"#{i}")
        for i in (1, 2)
    ]
    assert [m.status for m in sent] == [Status.QUEUED, Status.QUEUED]

    third = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="#3")

    assert_suppressed(third, SuppressedReason.FREQUENCY_CAP)
    assert [f["Body"] for f in forms(rsps)] == [["#1"], ["#2"]]


def test_it_caps_per_number(personas, rsps, django_capture_on_commit_callbacks):
    connect_sender(personas)
    cap(personas, 1)
    messages_create(rsps)
    send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    bob = send_now(django_capture_on_commit_callbacks, personas, to=BOB, body="Hi")
    alice_again = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert bob.status == Status.QUEUED
    assert alice_again.suppressed_reason == SuppressedReason.FREQUENCY_CAP


def test_it_does_not_count_messages_older_than_24_hours(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    clock = Clock(monkeypatch, datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC))
    connect_sender(personas)
    cap(personas, 2)
    messages_create(rsps)
    send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#1")
    clock.advance(hours=1)
    send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#2")

    clock.advance(hours=23, minutes=1)  # #1 is now 24 h 1 min old, #2 23 h 1 min
    third = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#3")
    fourth = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#4")

    assert third.status == Status.QUEUED
    assert fourth.suppressed_reason == SuppressedReason.FREQUENCY_CAP
    assert [f["Body"] for f in forms(rsps)] == [["#1"], ["#2"], ["#3"]]


def test_it_does_not_count_messages_suppressed_when_created(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    cap(personas, 2)
    too_long = "x" * 1601
    for _ in range(3):
        suppressed = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body=too_long)
        assert suppressed.suppressed_reason == SuppressedReason.TOO_LONG
    messages_create(rsps)

    first = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#1")
    second = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#2")

    assert (first.status, second.status) == (Status.QUEUED, Status.QUEUED)
    assert len(forms(rsps)) == 2


def test_it_does_not_count_messages_suppressed_at_send_time(
    personas, rsps, django_capture_on_commit_callbacks
):
    """An opt-out that arrived between create and send: the message never reached Twilio."""
    connect_sender(personas)
    cap(personas, 2)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            message = message_send(organization=personas.org, to=ALICE, body="Hi", source="test")
        consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
        for callback in callbacks:
            callback()
        message.refresh_from_db()
        assert message.suppressed_reason == SuppressedReason.OPTED_OUT
        consent_opt_in(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
    messages_create(rsps)
    rsps.assert_all_requests_are_fired = False  # the assertions below say what was sent

    after = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hello")

    assert after.status == Status.QUEUED
    assert after.suppressed_reason == ""
    assert forms(rsps) == [expected_form(after, to=ALICE, body="Hello")]


def test_it_has_no_cap_when_the_organization_sets_none(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    cap(personas, None)
    messages_create(rsps)

    statuses = [
        send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body=f"#{i}").status
        for i in range(4)
    ]

    assert statuses == [Status.QUEUED] * 4
    assert len(forms(rsps)) == 4


# --- Too long -------------------------------------------------------------------------------


def test_it_suppresses_a_text_over_1600_characters(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="a" * 1601)

    assert_suppressed(message, SuppressedReason.TOO_LONG)
    assert message.body == "a" * 1601
    assert forms(rsps) == []


def test_it_sends_a_text_of_exactly_1600_characters(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    messages_create(rsps)

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="a" * 1600)

    assert message.status == Status.QUEUED
    assert forms(rsps) == [expected_form(message, to=ALICE, body="a" * 1600)]


def test_it_suppresses_a_template_whose_rendered_text_is_over_1600_characters(
    personas, rsps, django_capture_on_commit_callbacks
):
    """The template itself fits; the contact's name and the opt-out footer push it over."""
    connect_sender(personas)
    alice = make_contact(personas, ALICE, first_name="Alexandra")
    body = "Hi {{ first_name }} " + "b" * 1570
    template = template_create(organization=personas.org, name="Long", body=body).template
    assert len(template.body) <= 1600

    message = send_now(
        django_capture_on_commit_callbacks, personas, contact=alice, template=template
    )

    assert_suppressed(message, SuppressedReason.TOO_LONG)
    assert message.body == f"Hi Alexandra {'b' * 1570}\nReply STOP to opt out"
    assert len(message.body) == 1605
    assert forms(rsps) == []
