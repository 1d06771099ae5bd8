"""Inbound messages from Twilio (DESIGN step 5): stored, consent applied, announced, answered."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

from connections.models import Connection
from contacts import signals as contact_signals
from contacts.models import (
    OPT_OUT_TAG,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    Contact,
)
from contacts.services.consent import consent_opt_out
from messaging import signals
from messaging.models import Direction, Message, MessageEvent, Status, SuppressedReason
from messaging.services.sending import message_send
from tests.connections.helpers import connect
from tests.messaging import webhook_helpers as wh
from tests.messaging.helpers import make_contact

pytestmark = pytest.mark.django_db

ALICE = wh.CUSTOMER
BOB = "+14155550177"
STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
START_WORDS = ["START", "YES", "UNSTOP"]

Received = list[dict[str, Any]]


@pytest.fixture
def connection(personas) -> Connection:
    return connect(personas)


def _listen(signal: Any) -> Iterator[Received]:
    received: Received = []

    def receiver(sender: Any, *, signal: Any, **payload: Any) -> None:
        assert sender is None
        received.append(payload)

    signal.connect(receiver, weak=False)
    yield received
    assert signal.disconnect(receiver)


@pytest.fixture
def inbound_events() -> Iterator[Received]:
    """Every ``messaging.signals.inbound_received`` sent, as its payload."""
    yield from _listen(signals.inbound_received)


@pytest.fixture
def created_events() -> Iterator[Received]:
    """Every ``contacts.signals.contact_created`` sent, as its payload."""
    yield from _listen(contact_signals.contact_created)


def receive(
    client, connection: Connection, body: str, *, from_: str = ALICE, sid: str | None = None, **kw
) -> Any:
    form = wh.inbound_form(body=body, from_=from_, sid=sid, **kw)
    return wh.post_signed(client, wh.inbound_path(connection), form)


def twiml_of(response: Any) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0].strip() == "text/xml"
    root = ET.fromstring(response.content)  # noqa: S314 - our own answer, in a test
    assert root.tag == "Response"
    return root


def assert_empty_twiml(response: Any) -> None:
    root = twiml_of(response)
    assert list(root) == []
    assert (root.text or "").strip() == ""


def is_tagged(contact: Contact) -> bool:
    return contact.tags.filter(name=OPT_OUT_TAG).exists()


def consent_rows(personas, phone: str = ALICE) -> list[tuple[str, str, str]]:
    """The ledger for ``phone``, oldest first: (kind, source, message SID)."""
    return list(
        ConsentEvent.objects.filter(organization=personas.org, phone=phone)
        .order_by("created_at", "pk")
        .values_list("kind", "source", "message_sid")
    )


def opted_out(personas, phone: str = ALICE) -> bool:
    return ConsentState.objects.filter(
        organization=personas.org, phone=phone, opted_out=True
    ).exists()


def nothing_stored() -> dict[str, int]:
    return {
        "messages": Message.objects.count(),
        "events": MessageEvent.objects.count(),
        "contacts": Contact.objects.count(),
        "consent_events": ConsentEvent.objects.count(),
        "consent_states": ConsentState.objects.count(),
    }


# --- Routing and signatures -------------------------------------------------------------------


def test_it_answers_404_for_an_unknown_inbound_key(client, personas, connection):
    path = wh.inbound_path("not-a-key-of-ours")
    form = wh.inbound_form(body="STOP")

    response = wh.post_signed(client, path, form)

    assert response.status_code == 404
    assert nothing_stored() == {
        "messages": 0,
        "events": 0,
        "contacts": 0,
        "consent_events": 0,
        "consent_states": 0,
    }
    assert wh.last_webhook(connection) == (None, None)


@pytest.mark.parametrize("way", wh.BAD_SIGNATURES)
def test_it_refuses_an_inbound_message_without_a_valid_signature_and_stores_nothing(
    client, personas, connection, way
):
    other = wh.connect_other(personas)
    path = wh.inbound_path(connection)
    form = wh.inbound_form(body="STOP")
    before = nothing_stored()

    response = wh.post(client, path, form, signature=wh.bad_signature(way, path, form))

    assert response.status_code == 403
    assert nothing_stored() == before
    assert not opted_out(personas)
    at, valid = wh.last_webhook(connection)
    assert at is not None
    assert valid is False
    assert wh.last_webhook(other) == (None, None)


def test_it_signs_the_query_string_as_part_of_the_url(client, personas, connection):
    path = f"{wh.inbound_path(connection)}?retry=1"
    form = wh.inbound_form(body="Hello")

    refused = wh.post(client, path, form, signature=wh.sign(wh.inbound_path(connection), form))
    accepted = wh.post_signed(client, path, form)

    assert refused.status_code == 403
    assert_empty_twiml(accepted)
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1


# --- Storing ----------------------------------------------------------------------------------


def test_it_stores_a_received_message_on_the_contact_with_that_number(client, personas, connection):
    alice = make_contact(personas, ALICE, first_name="Alice")
    sid = wh.new_sid()

    response = receive(client, connection, "Is the shop open on Sunday?", sid=sid)

    assert_empty_twiml(response)
    message = Message.objects.get(direction=Direction.INBOUND)
    assert message.organization == personas.org
    assert message.contact == alice
    assert message.connection == connection
    assert message.status == Status.RECEIVED
    assert message.sid == sid
    assert message.body == "Is the shop open on Sunday?"
    assert message.from_number == ALICE
    assert message.to == "+14155550100"
    assert list(MessageEvent.objects.filter(message=message).values_list("status", flat=True)) == [
        Status.RECEIVED
    ]
    assert Contact.objects.filter(organization=personas.org).count() == 1
    assert consent_rows(personas) == []
    assert wh.last_webhook(connection)[1] is True


def test_it_creates_the_contact_of_a_new_number_and_announces_it(
    client, personas, connection, created_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = receive(client, connection, "Hi, who is this?", from_=BOB)
        assert created_events == []  # not before the commit

    assert_empty_twiml(response)
    bob = Contact.objects.get(organization=personas.org, phone=BOB)
    assert Message.objects.get(direction=Direction.INBOUND).contact == bob
    assert created_events == [
        {"organization_id": personas.org.pk, "contact_ids": [bob.pk], "source": "inbound"}
    ]


def test_it_stores_a_message_in_the_organization_whose_key_it_was_sent_to(
    client, personas, connection
):
    make_contact(personas, ALICE)
    other = wh.connect_other(personas)
    form = wh.inbound_form(body="STOP")

    response = wh.post_signed(client, wh.inbound_path(other), form, token=wh.OTHER_TOKEN)

    assert_empty_twiml(response)
    message = Message.objects.get(direction=Direction.INBOUND)
    assert message.organization == personas.other_org
    assert message.connection == other
    assert message.contact is not None
    assert message.contact.organization == personas.other_org
    assert ConsentState.objects.get(phone=ALICE).organization == personas.other_org
    assert not opted_out(personas)
    assert wh.last_webhook(connection) == (None, None)


def test_it_stores_a_repeated_inbound_webhook_once_and_applies_consent_once(
    client, personas, connection, inbound_events, django_capture_on_commit_callbacks
):
    alice = make_contact(personas, ALICE)
    sid = wh.new_sid()

    with django_capture_on_commit_callbacks(execute=True):
        first = receive(client, connection, "STOP", sid=sid)
    with django_capture_on_commit_callbacks(execute=True):
        again = receive(client, connection, "STOP", sid=sid)

    assert_empty_twiml(first)
    assert_empty_twiml(again)
    assert Message.objects.filter(direction=Direction.INBOUND, sid=sid).count() == 1
    assert consent_rows(personas) == [(ConsentKind.OPT_OUT, ConsentSource.INBOUND_KEYWORD, sid)]
    assert opted_out(personas)
    assert is_tagged(alice)
    assert len(inbound_events) == 1


# --- Opting out ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["as_is", "lower", "padded"])
@pytest.mark.parametrize("word", STOP_WORDS)
def test_it_opts_out_on_each_stop_word(client, personas, connection, word, form):
    alice = make_contact(personas, ALICE)
    body = {"as_is": word, "lower": word.lower(), "padded": f"  {word.lower()} "}[form]
    sid = wh.new_sid()

    response = receive(client, connection, body, sid=sid)

    assert_empty_twiml(response)
    state = ConsentState.objects.get(organization=personas.org, phone=ALICE)
    assert state.opted_out is True
    assert state.opt_out_source == ConsentSource.INBOUND_KEYWORD
    assert consent_rows(personas) == [(ConsentKind.OPT_OUT, ConsentSource.INBOUND_KEYWORD, sid)]
    assert is_tagged(alice)
    assert Message.objects.get(direction=Direction.INBOUND).body == body


def test_it_opts_out_and_tags_a_new_number_that_replies_stop(client, personas, connection):
    response = receive(client, connection, "STOP", from_=BOB)

    assert_empty_twiml(response)
    bob = Contact.objects.get(organization=personas.org, phone=BOB)
    assert opted_out(personas, BOB)
    assert is_tagged(bob)


def test_it_opts_out_on_twilios_opt_out_type_whatever_the_language(client, personas, connection):
    alice = make_contact(personas, ALICE)
    sid = wh.new_sid()

    response = receive(client, connection, "Arrêtez", sid=sid, OptOutType="STOP")

    assert_empty_twiml(response)
    state = ConsentState.objects.get(organization=personas.org, phone=ALICE)
    assert state.opted_out is True
    assert state.opt_out_source == ConsentSource.TWILIO_OPT_OUT_TYPE
    assert consent_rows(personas) == [(ConsentKind.OPT_OUT, ConsentSource.TWILIO_OPT_OUT_TYPE, sid)]
    assert is_tagged(alice)
    assert Message.objects.get(direction=Direction.INBOUND).body == "Arrêtez"


@pytest.mark.parametrize(
    "body", ["Please stop texting me", "stop please", "STOP!", "S T O P", "stopp", "help me"]
)
def test_it_stores_a_message_that_is_not_exactly_a_keyword_without_changing_consent(
    client, personas, connection, body
):
    alice = make_contact(personas, ALICE)

    response = receive(client, connection, body)

    assert_empty_twiml(response)
    assert Message.objects.get(direction=Direction.INBOUND).body == body
    assert consent_rows(personas) == []
    assert not ConsentState.objects.filter(organization=personas.org).exists()
    assert not is_tagged(alice)


def test_it_suppresses_a_message_to_a_number_that_replied_stop(client, personas, connection):
    receive(client, connection, "STOP")
    alice = Contact.objects.get(organization=personas.org, phone=ALICE)

    to_contact = message_send(
        organization=personas.org, contact=alice, body="Spring sale!", source="test"
    )
    to_number = message_send(
        organization=personas.org, to="(415) 555-0123", body="Spring sale!", source="test"
    )

    for message in (to_contact, to_number):
        assert message.status == Status.SUPPRESSED
        assert message.suppressed_reason == SuppressedReason.OPTED_OUT


# --- Opting back in -----------------------------------------------------------------------------


@pytest.mark.parametrize("body_form", ["as_is", "padded_lower"])
@pytest.mark.parametrize("word", START_WORDS)
@pytest.mark.parametrize("earlier", ["keyword_stop", "user"])
def test_it_opts_back_in_on_a_start_word_and_removes_the_tag(
    client, personas, connection, earlier, word, body_form
):
    alice = make_contact(personas, ALICE)
    stop_sid = wh.new_sid()
    if earlier == "keyword_stop":
        receive(client, connection, "STOP", sid=stop_sid)
        first = (ConsentKind.OPT_OUT, ConsentSource.INBOUND_KEYWORD, stop_sid)
    else:
        consent_opt_out(
            organization=personas.org, phone=ALICE, source=ConsentSource.USER, actor="Admin"
        )
        first = (ConsentKind.OPT_OUT, ConsentSource.USER, "")
    assert opted_out(personas)
    assert is_tagged(alice)
    body = word if body_form == "as_is" else f" {word.lower()}  "
    sid = wh.new_sid()

    response = receive(client, connection, body, sid=sid)

    assert_empty_twiml(response)
    assert not opted_out(personas)
    assert not is_tagged(alice)
    assert consent_rows(personas) == [
        first,
        (ConsentKind.OPT_IN, ConsentSource.INBOUND_KEYWORD, sid),
    ]
    sent = message_send(organization=personas.org, contact=alice, body="Welcome", source="test")
    assert sent.status == Status.PENDING


def test_it_opts_back_in_on_twilios_opt_out_type_start(client, personas, connection):
    alice = make_contact(personas, ALICE)
    receive(client, connection, "STOP")
    sid = wh.new_sid()

    response = receive(client, connection, "Reprendre", sid=sid, OptOutType="START")

    assert_empty_twiml(response)
    assert not opted_out(personas)
    assert not is_tagged(alice)
    assert consent_rows(personas)[-1] == (
        ConsentKind.OPT_IN,
        ConsentSource.TWILIO_OPT_OUT_TYPE,
        sid,
    )


# --- Help -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["HELP", "INFO", " help ", "Info"])
def test_it_records_help_and_answers_with_the_organizations_reply(
    client, personas, connection, body
):
    alice = make_contact(personas, ALICE)
    personas.org.help_reply = "Call us & we'll help <3"
    personas.org.save(update_fields=["help_reply"])
    sid = wh.new_sid()

    response = receive(client, connection, body, sid=sid)

    root = twiml_of(response)
    assert [child.tag for child in root] == ["Message"]
    assert root[0].text == "Call us & we'll help <3"
    assert b"&amp;" in response.content
    assert b"&lt;3" in response.content
    assert consent_rows(personas) == [(ConsentKind.HELP, ConsentSource.INBOUND_KEYWORD, sid)]
    assert not ConsentState.objects.filter(organization=personas.org, opted_out=True).exists()
    assert not is_tagged(alice)
    assert Message.objects.get(direction=Direction.INBOUND).body == body


@pytest.mark.parametrize("body", ["HELP", "INFO"])
def test_it_records_help_and_answers_an_empty_response_without_a_reply(
    client, personas, connection, body
):
    make_contact(personas, ALICE)
    assert personas.org.help_reply == ""
    sid = wh.new_sid()

    response = receive(client, connection, body, sid=sid)

    assert_empty_twiml(response)
    assert consent_rows(personas) == [(ConsentKind.HELP, ConsentSource.INBOUND_KEYWORD, sid)]


# --- The inbound_received signal ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "is_keyword"),
    [("See you at 5", False), ("STOP", True), ("start", True), ("HELP", True)],
)
def test_it_announces_the_message_once_after_commit(
    client,
    personas,
    connection,
    inbound_events,
    django_capture_on_commit_callbacks,
    body,
    is_keyword,
):
    alice = make_contact(personas, ALICE)

    with django_capture_on_commit_callbacks(execute=True):
        response = receive(client, connection, body)
        assert inbound_events == []  # not before the commit

    assert response.status_code == 200
    message = Message.objects.get(direction=Direction.INBOUND)
    assert inbound_events == [
        {
            "organization_id": personas.org.pk,
            "contact_ids": [alice.pk],
            "source": "inbound",
            "message_id": message.pk,
            "contact_id": alice.pk,
            "body": body,
            "is_keyword": is_keyword,
        }
    ]


def test_it_does_not_announce_a_refused_message(
    client, personas, connection, inbound_events, django_capture_on_commit_callbacks
):
    path = wh.inbound_path(connection)
    form = wh.inbound_form(body="Hello")

    with django_capture_on_commit_callbacks(execute=True):
        response = wh.post(client, path, form, signature=None)

    assert response.status_code == 403
    assert inbound_events == []
