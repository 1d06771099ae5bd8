"""Twilio's webhooks against hostile or malformed input: never a 500.

A signed request is stored safely (NUL replaced, values that cannot be Twilio's dropped); an
unsigned or badly signed one is a 403; a path no Twilio request can have is a 4xx. NUL and
integer overflow only fail on PostgreSQL: run these there too.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from connections.models import Connection
from contacts.models import ConsentKind, Contact
from messaging.models import Direction, Message, MessageEvent, Status
from messaging.services.sending import message_send
from messaging.services.webhooks import signature_valid
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.messaging import webhook_helpers as wh
from tests.messaging.inbound_helpers import (
    ALICE,
    consent_rows,
    is_tagged,
    nothing_stored,
    opted_out,
    twiml_of,
)

pytestmark = pytest.mark.django_db

SID = "SM" + "5" * 32
LONG_SID = "SM" + "a" * 38  # 40 characters: no Twilio SID is that long
REPLACEMENT = "\ufffd"


@pytest.fixture
def connection(personas) -> Connection:
    return connect(personas)


def outbound(personas, *, sid: str | None = SID) -> Message:
    """An outbound message handed to Twilio (status queued), its SID stored unless None."""
    message = message_send(organization=personas.org, to=wh.CUSTOMER, body="Hi", source="test")
    Message.objects.filter(pk=message.pk).update(
        status=Status.QUEUED, sid=sid, submitted_at=timezone.now()
    )
    message.refresh_from_db()
    return message


def callback_events(message: Message) -> list[tuple[str, int | None]]:
    return list(
        MessageEvent.objects.filter(message=message, callback_key__isnull=False)
        .order_by("at", "pk")
        .values_list("status", "error_code")
    )


def inbound_messages() -> list[Message]:
    return list(Message.objects.filter(direction=Direction.INBOUND).order_by("pk"))


# --- Signatures that are not ASCII ----------------------------------------------------------


@pytest.mark.parametrize("signature", ["é", "ü" * 28, "😀", "\x00", "abc\u200b"])
def test_its_signature_check_says_no_to_a_signature_that_is_not_ascii(signature):
    assert signature_valid(tw.AUTH_TOKEN, "/webhooks/twilio/status/x", {}, signature) is False


@pytest.mark.parametrize("suffix", ["é", "\u00ff", "\u00a0"])
def test_it_refuses_a_status_callback_with_a_non_ascii_signature_with_403(
    client, personas, connection, suffix
):
    message = outbound(personas)
    path = wh.status_path(message)
    form = wh.status_form(sid=SID, status="delivered")

    response = wh.post(client, path, form, signature=wh.sign(path, form) + suffix)

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert callback_events(message) == []
    assert wh.last_webhook(connection)[1] is False


@pytest.mark.parametrize("suffix", ["é", "\u00ff", "\u00a0"])
def test_it_refuses_an_inbound_message_with_a_non_ascii_signature_with_403(
    client, personas, connection, suffix
):
    path = wh.inbound_path(connection)
    form = wh.inbound_form(body="STOP")
    before = nothing_stored()

    response = wh.post(client, path, form, signature=wh.sign(path, form) + suffix)

    assert response.status_code == 403
    assert nothing_stored() == before
    assert not opted_out(personas)


# --- NUL in the path --------------------------------------------------------------------------


def test_it_answers_4xx_for_a_nul_in_the_inbound_path(client, personas, connection):
    path = f"{wh.inbound_path(connection)}%00"
    form = wh.inbound_form(body="STOP")
    before = nothing_stored()

    response = wh.post_signed(client, path, form)

    assert 400 <= response.status_code < 500
    assert nothing_stored() == before


def test_it_answers_4xx_for_an_inbound_key_that_is_only_a_nul(client, personas, connection):
    response = wh.post_signed(client, wh.inbound_path("%00"), wh.inbound_form(body="Hi"))

    assert 400 <= response.status_code < 500
    assert inbound_messages() == []


@pytest.mark.parametrize("tail", ["%00", "%00abc", "x%00"])
def test_it_answers_4xx_for_a_nul_in_the_status_path_and_changes_nothing(
    client, personas, connection, tail
):
    message = outbound(personas)
    path = f"{wh.status_path(message)}{tail}"
    form = wh.status_form(sid=SID, status="delivered")

    response = wh.post_signed(client, path, form)

    assert 400 <= response.status_code < 500
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert callback_events(message) == []


# --- Status callbacks: error codes out of range ------------------------------------------------


@pytest.mark.parametrize(
    "error_code",
    ["-5", "0", "1" * 40, "2147483648", "30007.5", "3e4", "\uff11\uff12\uff13", "", "   "],
)
def test_it_keeps_the_event_and_the_move_of_a_callback_whose_error_code_is_out_of_range(
    client, personas, connection, error_code
):
    message = outbound(personas)
    form = wh.status_form(sid=SID, status="undelivered", ErrorCode=error_code)

    response = wh.post_signed(client, wh.status_path(message), form)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.UNDELIVERED
    assert message.error_code is None
    assert callback_events(message) == [("undelivered", None)]
    event = MessageEvent.objects.get(message=message, callback_key__isnull=False)
    assert event.params["ErrorCode"] == error_code  # kept for support, as Twilio sent it


@pytest.mark.parametrize(
    ("raw", "code"), [("1", 1), ("2147483647", 2147483647), (" 30003 ", 30003)]
)
def test_it_stores_an_error_code_in_range(client, personas, connection, raw, code):
    message = outbound(personas)
    form = wh.status_form(sid=SID, status="failed", ErrorCode=raw)

    response = wh.post_signed(client, wh.status_path(message), form)

    assert response.status_code == 204
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, code)
    assert callback_events(message) == [("failed", code)]


# --- Status callbacks: values no column can hold ------------------------------------------------


def test_it_stores_a_callback_with_nul_in_its_parameters_with_the_nul_replaced(
    client, personas, connection
):
    message = outbound(personas)
    form = wh.status_form(sid=SID, status="delivered", ChannelStatusMessage="ok\x00then")
    form["Odd\x00Name"] = "x"

    response = wh.post_signed(client, wh.status_path(message), form)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    event = MessageEvent.objects.get(message=message, callback_key__isnull=False)
    assert event.params["ChannelStatusMessage"] == f"ok{REPLACEMENT}then"
    assert event.params[f"Odd{REPLACEMENT}Name"] == "x"


def test_it_keeps_the_move_of_a_callback_whose_sid_cannot_be_twilios(client, personas, connection):
    message = outbound(personas, sid=None)
    form = wh.status_form(sid=LONG_SID, status="sent")

    response = wh.post_signed(client, wh.status_path(message), form)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.sid is None
    assert callback_events(message) == [("sent", None)]


@pytest.mark.parametrize("status", ["x" * 40, "deliv\x00ered"])
def test_it_records_a_callback_with_a_status_no_column_can_hold_and_moves_nothing(
    client, personas, connection, status
):
    message = outbound(personas)
    form = wh.status_form(sid=SID, status=status)

    response = wh.post_signed(client, wh.status_path(message), form)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    [(recorded, code)] = callback_events(message)
    assert len(recorded) <= 32
    assert "\x00" not in recorded
    assert code is None


# --- Inbound messages: a SID that cannot be Twilio's -------------------------------------------


def test_it_stores_an_inbound_message_whose_sid_is_too_long_without_the_sid(
    client, personas, connection
):
    form = wh.inbound_form(body="Are you open today?", sid=LONG_SID)

    response = wh.post_signed(client, wh.inbound_path(connection), form)

    twiml_of(response)
    [message] = inbound_messages()
    assert message.body == "Are you open today?"
    assert message.sid is None
    event = MessageEvent.objects.get(message=message)
    assert event.params["MessageSid"] == LONG_SID  # as Twilio sent it, for support


def test_it_applies_a_stop_whose_sid_is_too_long_and_records_it_without_the_sid(
    client, personas, connection
):
    form = wh.inbound_form(body="STOP", sid=LONG_SID)

    response = wh.post_signed(client, wh.inbound_path(connection), form)

    twiml_of(response)
    assert opted_out(personas)
    assert is_tagged(Contact.objects.get(organization=personas.org, phone=ALICE))
    assert [(kind, sid) for kind, _source, sid in consent_rows(personas)] == [
        (ConsentKind.OPT_OUT, "")
    ]


# --- Inbound messages: NUL ---------------------------------------------------------------------


def test_it_stores_an_inbound_body_with_nul_replaced_by_the_replacement_character(
    client, personas, connection
):
    form = wh.inbound_form(body="Hello\x00world\x00")

    response = wh.post_signed(client, wh.inbound_path(connection), form)

    twiml_of(response)
    [message] = inbound_messages()
    assert message.body == f"Hello{REPLACEMENT}world{REPLACEMENT}"
    assert message.contact is not None
    assert message.contact.phone == ALICE
    assert MessageEvent.objects.get(message=message).params["Body"] == message.body
    assert consent_rows(personas) == []


@pytest.mark.parametrize("body", ["STOP\x00", "\x00stop", " \x00STOP\x00 "])
def test_it_applies_a_stop_padded_with_nul(client, personas, connection, body):
    response = wh.post_signed(client, wh.inbound_path(connection), wh.inbound_form(body=body))

    twiml_of(response)
    assert opted_out(personas)
    [message] = inbound_messages()
    assert "\x00" not in message.body


def test_it_does_not_take_a_word_with_a_nul_inside_it_for_a_keyword(client, personas, connection):
    response = wh.post_signed(client, wh.inbound_path(connection), wh.inbound_form(body="ST\x00OP"))

    twiml_of(response)
    assert not opted_out(personas)
    assert inbound_messages()[0].body == f"ST{REPLACEMENT}OP"


@pytest.mark.parametrize(
    "changes",
    [
        {"FromCity": "SAN\x00FRANCISCO"},
        {"To": "+1415555\x000100"},
        {"From": "+1415555\x000123"},
        {"From": "\x00" * 30},
        {"OptOutType": "STOP\x00"},
        {"MessageSid": "SM\x00" + "1" * 31},
        {"Extra\x00Key": "value"},
    ],
)
def test_it_stores_an_inbound_message_with_nul_in_any_parameter(
    client, personas, connection, changes
):
    form = wh.inbound_form(body="Hi there", **changes)

    response = wh.post_signed(client, wh.inbound_path(connection), form)

    twiml_of(response)
    [message] = inbound_messages()
    assert message.body == "Hi there"
    stored: dict[str, Any] = dict(Message.objects.filter(pk=message.pk).values().get())
    assert not any(isinstance(v, str) and "\x00" in v for v in stored.values())
    params = MessageEvent.objects.get(message=message).params
    assert not any("\x00" in k or "\x00" in v for k, v in params.items())


def test_it_still_honours_twilios_opt_out_type_next_to_a_body_with_nul(
    client, personas, connection
):
    form = wh.inbound_form(body="please\x00no more", OptOutType="STOP")

    response = wh.post_signed(client, wh.inbound_path(connection), form)

    twiml_of(response)
    assert opted_out(personas)
