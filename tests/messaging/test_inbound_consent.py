"""Inbound keywords: STOP opts out, START opts back in, HELP is recorded and answered."""

from __future__ import annotations

import pytest

from contacts.models import ConsentKind, ConsentSource, ConsentState, Contact
from contacts.services.consent import consent_opt_out
from messaging.models import Direction, Message, Status, SuppressedReason
from messaging.services.sending import message_send
from tests.messaging import webhook_helpers as wh
from tests.messaging.helpers import make_contact
from tests.messaging.inbound_helpers import (
    ALICE,
    BOB,
    assert_empty_twiml,
    consent_rows,
    is_tagged,
    opted_out,
    receive,
    twiml_of,
)

pytestmark = pytest.mark.django_db

STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
START_WORDS = ["START", "YES", "UNSTOP"]


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
