"""The send rules about the recipient: a number that opted out, or that Twilio found invalid."""

from __future__ import annotations

import pytest

from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_in, consent_opt_out
from messaging.models import Status, SuppressedReason
from messaging.services.sending import message_send
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    make_contact,
    messages_create,
    messages_refuse,
    send_now,
)
from tests.messaging.send_helpers import (
    ALICE,
    assert_suppressed,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- Opted out ------------------------------------------------------------------------------


def test_it_suppresses_a_message_to_an_opted_out_number(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    alice = make_contact(personas, ALICE)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)

    message = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Hi")

    assert_suppressed(message, SuppressedReason.OPTED_OUT)
    assert message.to == ALICE
    assert forms(rsps) == []


def test_it_suppresses_an_opted_out_number_given_as_a_number_in_any_format(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)

    message = send_now(django_capture_on_commit_callbacks, personas, to="(415) 555-0123", body="Hi")

    assert_suppressed(message, SuppressedReason.OPTED_OUT)
    assert message.to == ALICE
    assert forms(rsps) == []


def test_it_sends_again_to_a_number_that_opted_back_in(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
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
    connect(personas)
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
    connect(personas)
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
    connect(personas)
    connect(personas, "outsider")  # organization B, on the same Twilio account
    alice = make_contact(personas, ALICE)
    messages_refuse(rsps, 21211, 400, "The 'To' number is not a valid phone number.")
    send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="One")

    other = message_send(organization=personas.other_org, to=ALICE, body="Hi", source="test")

    assert (other.status, other.suppressed_reason) == (Status.PENDING, "")
