"""Submitting to Twilio: a permanent refusal fails at once, may opt out or mark keys failing."""

from __future__ import annotations

import pytest

from connections.models import ConnectionState
from contacts.models import OPT_OUT_TAG, ConsentEvent, ConsentSource, ConsentState
from messaging.models import MessageEvent, Status, SuppressedReason
from messaging.services.dispatch import messages_enqueue_due
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    make_contact,
    messages_refuse,
    send_now,
)
from tests.messaging.send_helpers import (
    ALICE,
    T0,
    event_rows,
)

pytestmark = pytest.mark.usefixtures("unlimited_slots")

# --- Permanent refusals ---------------------------------------------------------------------

PERMANENT = [
    (21211, "The 'To' number +14155550123 is not a valid phone number.",
     "The recipient's number is not a valid phone number."),
    (21408, "Permission to send an SMS has not been enabled for the region indicated by the "
     "'To' number: +14155550123.",
     "This Twilio account is not allowed to send to the recipient's country."),
    (21606, "The 'From' phone number provided is not a valid message-capable Twilio phone "
     "number for this destination/account.",
     "The sender is not an SMS-capable number of this Twilio account."),
    (21612, "The 'To' phone number: +14155550123, is not currently reachable using the 'From' "
     "phone number: +14155550100 via SMS.",
     "Twilio cannot route a message from this sender to the recipient."),
    (21614, "'To' number is not a valid mobile number",
     "The recipient's number is not a mobile number."),
    (21602, "Message body is required.", "The message has no text and no media."),
]  # fmt: skip


@pytest.mark.parametrize(("code", "text", "explanation"), PERMANENT)
@pytest.mark.django_db
def test_it_fails_at_once_on_a_permanent_refusal(
    personas, rsps, clock, django_capture_on_commit_callbacks, code, text, explanation
):
    connection = connect(personas)
    alice = make_contact(personas, ALICE)
    messages_refuse(rsps, code, 400, text)

    message = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Hi")

    assert message.status == Status.FAILED
    assert (message.error_code, message.error_message) == (code, explanation)
    assert message.attempts == 1
    assert message.sid is None
    assert message.submitted_at == T0
    assert event_rows(message) == [("pending", None), ("failed", code)]
    assert MessageEvent.objects.get(message=message, status="failed").params == {
        "detail": explanation
    }
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]
    # Nothing else changes: the number may still be texted, the connection is fine.
    assert not ConsentState.objects.filter(phone=ALICE, opted_out=True).exists()
    connection.refresh_from_db()
    assert connection.state == ConnectionState.CONNECTED
    # …and it is never tried again.
    clock.advance(days=1)
    assert messages_enqueue_due() == 0
    assert len(forms(rsps)) == 1


@pytest.mark.django_db
def test_it_opts_the_number_out_when_twilio_says_the_recipient_unsubscribed(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    alice = make_contact(personas, ALICE)
    messages_refuse(rsps, 21610, 400, "Attempt to send to unsubscribed recipient")

    message = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Hi")

    assert message.status == Status.FAILED
    assert (message.error_code, message.error_message) == (
        21610,
        "The recipient has replied STOP to this sender.",
    )
    state = ConsentState.objects.get(organization=personas.org, phone=ALICE)
    assert (state.opted_out, state.opt_out_source) == (True, ConsentSource.TWILIO_ERROR_21610)
    assert state.locked  # only the person's START undoes it
    assert list(
        ConsentEvent.objects.filter(organization=personas.org, phone=ALICE).values_list(
            "kind", "source", "contact"
        )
    ) == [("opt_out", "twilio_21610", alice.pk)]
    assert list(alice.tags.values_list("name", flat=True)) == [OPT_OUT_TAG]

    again = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Hi")
    assert again.suppressed_reason == SuppressedReason.OPTED_OUT
    assert len(forms(rsps)) == 1


@pytest.mark.django_db
def test_it_marks_the_connection_failing_when_twilio_refuses_the_keys(
    personas, rsps, django_capture_on_commit_callbacks
):
    connection = connect(personas)
    rsps.post(
        f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/Messages.json", json=tw.load("error_20003"), status=401
    )

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert message.status == Status.FAILED
    assert (message.error_code, message.error_message) == (
        20003,
        "Twilio refused the Account SID and Auth Token.",
    )
    connection.refresh_from_db()
    assert connection.state == ConnectionState.FAILING
    assert connection.last_error == "Twilio refused the Account SID and Auth Token."
    assert len(forms(rsps)) == 1
