"""The sandbox speaks the contract the official twilio-python client expects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_SERVICE_SID
from tests.sandbox.conftest import LOCAL, OTHER_TOKEN, PHONE, TOLL_FREE, Sandbox


def twilio_client(sandbox: Sandbox, token: str = DEFAULT_AUTH_TOKEN) -> Client:
    client = Client(
        sandbox.options.account_sid,
        token,
        environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
    )
    client.api.base_url = sandbox.url
    client.messaging.base_url = sandbox.url
    return client


# --- The official client --------------------------------------------------------------------


def test_it_speaks_the_contract_the_twilio_library_expects(sandbox):
    client = twilio_client(sandbox)

    account = client.api.v2010.accounts(DEFAULT_ACCOUNT_SID).fetch()
    [number] = client.incoming_phone_numbers.list(phone_number=LOCAL)
    created = client.messages.create(to=PHONE, from_=LOCAL, body="Via twilio-python")
    fetched = client.messages(created.sid).fetch()
    listed = client.messages.list(
        to=PHONE, date_sent_after=datetime.now(UTC) - timedelta(hours=1), limit=20
    )
    [service] = client.messaging.v1.services.list(limit=20)
    [service_number] = client.messaging.v1.services(service.sid).phone_numbers.list()
    [verification] = client.messaging.v1.tollfree_verifications.list(
        tollfree_phone_number_sid=sandbox.number(TOLL_FREE)["sid"], limit=1
    )

    assert account.sid == DEFAULT_ACCOUNT_SID
    assert account.status == "active"
    assert number.phone_number == LOCAL
    assert number.capabilities["sms"] is True
    assert created.sid.startswith("SM")
    assert created.status == "queued"
    assert created.date_created is not None
    assert fetched.sid == created.sid
    assert fetched.body == "Via twilio-python"
    assert [m.sid for m in listed] == [created.sid]
    assert service.sid == DEFAULT_SERVICE_SID
    assert service.us_app_to_person_registered is True
    assert service_number.phone_number == LOCAL
    assert verification.status == "TWILIO_APPROVED"


def test_it_raises_twilios_errors_through_the_library(sandbox):
    client = twilio_client(sandbox)
    refused = twilio_client(sandbox, token=OTHER_TOKEN)

    with pytest.raises(TwilioRestException) as invalid_to:
        client.messages.create(to="12345", from_=LOCAL, body="hi")
    with pytest.raises(TwilioRestException) as not_ours:
        client.messages.create(to=PHONE, from_="+14155559999", body="hi")
    with pytest.raises(TwilioRestException) as bad_keys:
        refused.api.v2010.accounts(DEFAULT_ACCOUNT_SID).fetch()

    assert (invalid_to.value.status, invalid_to.value.code) == (400, 21211)
    assert (not_ours.value.status, not_ours.value.code) == (400, 21606)
    assert (bad_keys.value.status, bad_keys.value.code) == (401, 20003)
