"""The Twilio connection's events: connected, changed, re-verified, rotated, disconnected,
and the encryption keys' rotation; each with its actor, and never the Auth Token."""

from __future__ import annotations

import json
from io import StringIO

import pytest
import responses
from django.core.management import call_command

from connections.models import Connection, TwilioCredentials
from tests import twilio_mocks as tw
from tests.audit.helpers import api, browser, by_key, by_member, by_operator, events, one
from tests.connections.helpers import (
    CONFIGURE,
    CONNECT,
    DISCONNECT,
    FORM,
    OTHER_TOKEN,
    ROTATE,
    SEND_RATE,
    URL,
    VERIFY,
    connect,
    number_body,
)
from tests.connections.test_crypto import NEW_KEY, OLD_KEY

pytestmark = pytest.mark.django_db

NUMBER_UPDATE_URL = f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/IncomingPhoneNumbers/{tw.NUMBER_SID}.json"


def no_secret(event, *secrets: str) -> None:
    text = json.dumps(event.changes) + event.target_label
    for secret in (tw.AUTH_TOKEN, *secrets):
        assert secret not in text


def test_connecting_on_the_page_records_who_connected_what_without_the_token(personas):
    client = browser(personas, "owner")

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = client.post(CONNECT, FORM)

    assert response.status_code == 302
    event = one(personas.org, "connection.connected")
    by_member(event, personas, "owner")
    connection = Connection.objects.get(organization=personas.org)
    assert (event.target_type, event.target_id, event.target_label) == (
        "connection",
        str(connection.public_id),
        "Twilio SMS",
    )
    assert event.changes == {
        "account_sid": {"before": None, "after": tw.ACCOUNT_SID},
        "sender": {"before": None, "after": tw.NUMBER},
        "sender_type": {"before": None, "after": "local"},
        "send_rate": {"before": None, "after": "1.00"},
    }
    no_secret(event)


def test_a_new_token_through_the_api_is_a_change_that_names_only_that_the_token_changed(
    personas,
):
    connect(personas)

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = api(personas, "admin").put(
            URL, number_body(auth_token=OTHER_TOKEN), format="json"
        )

    assert response.status_code == 200, response.content
    event = one(personas.org, "connection.changed")
    by_key(event, "admin")
    assert event.changes == {"auth_token": {"before": "(hidden)", "after": "(replaced)"}}
    no_secret(event, OTHER_TOKEN)


def test_a_refused_connect_records_nothing(personas):
    client = browser(personas, "owner")

    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        response = client.post(CONNECT, FORM)

    assert response.status_code == 400
    assert events(personas.org) == []


def test_re_verifying_records_it_and_a_refused_re_verification_does_not(personas):
    connect(personas)
    client = browser(personas, "admin")

    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        client.post(VERIFY)
    assert events(personas.org, "connection.reverified") == []

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        client.post(VERIFY)

    event = one(personas.org, "connection.reverified")
    by_member(event, personas, "admin")
    assert event.changes == {"state": {"before": "failing", "after": "connected"}}


def test_configuring_the_number_and_the_send_rate_are_changes(personas):
    connection = connect(personas)
    client = browser(personas, "admin")
    entry = tw.load("incoming_phone_numbers")["incoming_phone_numbers"][0]

    with responses.RequestsMock() as rsps:
        rsps.post(NUMBER_UPDATE_URL, json=entry)
        client.post(CONFIGURE)
    client.post(SEND_RATE, {"send_rate": "2.5"})

    configured, rated = events(personas.org, "connection.changed")
    by_member(configured, personas, "admin")
    assert configured.changes == {
        "incoming_sms_url": {"before": None, "after": "this hub's inbound webhook"}
    }
    assert connection.inbound_key not in json.dumps(configured.changes)
    by_member(rated, personas, "admin")
    assert rated.changes == {"send_rate": {"before": "1.00", "after": "2.50"}}


def test_rotating_the_inbound_key_records_that_it_changed_never_the_key(personas):
    connection = connect(personas)

    browser(personas, "admin").post(ROTATE)

    event = one(personas.org, "connection.inbound_key_rotated")
    by_member(event, personas, "admin")
    assert event.changes == {"inbound_key": {"before": "(hidden)", "after": "(replaced)"}}
    new_key = Connection.objects.get(pk=connection.pk).inbound_key
    assert connection.inbound_key not in json.dumps(event.changes)
    assert new_key not in json.dumps(event.changes)


def test_disconnecting_records_what_was_erased(personas):
    connect(personas)

    browser(personas, "owner").post(DISCONNECT)

    event = one(personas.org, "connection.disconnected")
    by_member(event, personas, "owner")
    assert event.changes == {
        "account_sid": {"before": tw.ACCOUNT_SID, "after": None},
        "sender": {"before": tw.NUMBER, "after": None},
        "sender_type": {"before": "local", "after": None},
        "send_rate": {"before": "1.00", "after": None},
        "state": {"before": "connected", "after": "disconnected"},
    }
    assert TwilioCredentials.objects.count() == 0


def test_the_connect_command_is_the_operators(personas):
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        call_command(
            "connect_twilio",
            personas.org.slug,
            "--account-sid",
            tw.ACCOUNT_SID,
            "--auth-token",
            tw.AUTH_TOKEN,
            "--phone-number",
            tw.NUMBER,
            stdout=StringIO(),
        )

    event = one(personas.org, "connection.connected")
    by_operator(event)
    no_secret(event)


def test_rotating_the_encryption_keys_records_one_event_per_organization(settings, personas):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    connect(personas)
    connect(personas, "outsider")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    call_command("rotate_encryption_keys", stdout=StringIO())

    for organization in (personas.org, personas.other_org):
        event = one(organization, "encryption.keys_rotated")
        by_operator(event)
        assert (event.target_type, event.target_id) == ("organization", str(organization.public_id))
        assert event.changes == {"secrets_reencrypted": {"before": None, "after": 1}}
        no_secret(event, OLD_KEY, NEW_KEY)
