"""The Connection Center's connect flow against the sandbox, over real HTTP (no mocking)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from connections import twilio_api
from connections.models import Connection, TwilioCredentials
from connections.services.connections import twilio_configure_number, twilio_connect
from sandbox.state import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBERS,
    DEFAULT_SERVICE_SID,
)
from tenants.actor import Actor
from tenants.errors import ApplicationError
from tests.factories import page_text
from tests.sandbox.conftest import Sandbox

pytestmark = pytest.mark.django_db

LOCAL, UNREGISTERED, TOLL_FREE = DEFAULT_NUMBERS
CONNECT = "/connections/twilio/connect/"
DETAIL = "/connections/twilio/"
CONFIGURE = "/connections/twilio/configure-number/"
CONNECTED_MESSAGE = "You have successfully connected your Twilio account."
WEBHOOK_PREFIX = "https://hub.example.com/webhooks/twilio/inbound/"


@pytest.fixture
def hub(settings, monkeypatch, sandbox: Sandbox) -> Sandbox:
    """The hub's Twilio seam pointed at the sandbox, with a connection pool of its own."""
    # The seam keeps one HTTP client per thread; a fresh one per test means no kept-alive
    # connection to an earlier test's sandbox (whose port the OS may hand out again).
    monkeypatch.setattr(twilio_api, "_local", threading.local())
    settings.TWILIO_API_BASE_URL = sandbox.url
    settings.TWILIO_MESSAGING_BASE_URL = sandbox.url
    settings.PUBLIC_BASE_URL = "https://hub.example.com"
    return sandbox


def connect(personas, phone_number: str = "", **kwargs: str) -> Connection:
    membership = personas.membership("admin")
    return twilio_connect(
        organization=membership.organization,
        by=Actor.for_membership(membership),
        account_sid=kwargs.pop("account_sid", DEFAULT_ACCOUNT_SID),
        auth_token=kwargs.pop("auth_token", DEFAULT_AUTH_TOKEN),
        phone_number=phone_number,
        **kwargs,
    )


def test_it_connects_a_registered_local_number(personas, hub):
    connection = connect(personas, "(415) 555-0100")

    assert connection.state == "connected"
    assert connection.verified_at is not None
    credentials = TwilioCredentials.objects.get(connection=connection)
    assert credentials.account_sid == DEFAULT_ACCOUNT_SID
    assert credentials.account_name == "Twilio Sandbox"
    assert credentials.phone_number == LOCAL
    assert credentials.phone_number_sid == hub.number(LOCAL)["sid"]
    assert credentials.sender_type == "local"
    assert credentials.sender_country == "US"
    assert credentials.sms_capable is True
    assert credentials.compliance_state == "registered"
    assert credentials.auth_token().reveal() == DEFAULT_AUTH_TOKEN


def test_it_connects_a_local_number_outside_any_campaign_as_unregistered(personas, hub):
    connection = connect(personas, UNREGISTERED)

    credentials = TwilioCredentials.objects.get(connection=connection)
    assert connection.state == "connected"
    assert credentials.sender_type == "local"
    assert credentials.compliance_state == "unregistered"
    assert credentials.compliance_detail == "not in any Messaging Service"


def test_it_connects_a_verified_toll_free_number(personas, hub):
    connection = connect(personas, TOLL_FREE)

    credentials = TwilioCredentials.objects.get(connection=connection)
    assert connection.state == "connected"
    assert credentials.phone_number == TOLL_FREE
    assert credentials.sender_type == "toll_free"
    assert credentials.compliance_state == "registered"


def test_it_connects_the_sandboxs_messaging_service(personas, hub):
    connection = connect(personas, messaging_service_sid=DEFAULT_SERVICE_SID)

    credentials = TwilioCredentials.objects.get(connection=connection)
    assert credentials.sender_type == "messaging_service"
    assert credentials.messaging_service_sid == DEFAULT_SERVICE_SID
    assert credentials.compliance_state == "registered"


def test_it_refuses_wrong_keys_and_a_foreign_number_and_saves_nothing(personas, hub):
    with pytest.raises(ApplicationError) as bad_keys:
        connect(personas, LOCAL, auth_token="0" * 32)
    with pytest.raises(ApplicationError) as foreign:
        connect(personas, "+14155559999")

    assert bad_keys.value.code == "twilio_authentication_failed"
    assert "auth_token" in bad_keys.value.fields
    assert foreign.value.code == "twilio_number_not_found"
    assert "phone_number" in foreign.value.fields
    assert not TwilioCredentials.objects.exists()


def test_it_configures_the_numbers_sms_url_in_the_sandbox(personas, hub):
    connection = connect(personas, "(415) 555-0100")
    by = Actor.for_membership(personas.membership("admin"))

    url = twilio_configure_number(connection=connection, by=by)

    expected = f"{WEBHOOK_PREFIX}{connection.inbound_key}"
    assert url == expected
    assert hub.number(LOCAL)["sms_url"] == expected
    assert hub.number(LOCAL)["sms_method"] == "POST"
    assert hub.number(UNREGISTERED)["sms_url"] == ""


def test_it_connects_through_the_connection_center_page(personas, hub):
    client = personas.client("admin")

    response = client.post(
        CONNECT,
        {
            "account_sid": DEFAULT_ACCOUNT_SID,
            "auth_token": DEFAULT_AUTH_TOKEN,
            "phone_number": "(415) 555-0100",
            "messaging_service_sid": "",
        },
    )

    assert response.status_code == 302, page_text(response)
    assert response["Location"] == DETAIL
    detail = page_text(client.get(response["Location"]))
    assert CONNECTED_MESSAGE in detail
    connection = Connection.objects.get(organization=personas.org)
    assert connection.state == "connected"
    credentials = TwilioCredentials.objects.get(connection=connection)
    assert credentials.sender_type == "local"
    assert credentials.compliance_state == "registered"
    assert credentials.send_rate == Decimal("1.00")

    configured = client.post(CONFIGURE)

    assert configured.status_code == 302
    assert hub.number(LOCAL)["sms_url"] == f"{WEBHOOK_PREFIX}{connection.inbound_key}"


def test_it_shows_the_sandboxs_refusal_on_the_page(personas, hub):
    response = personas.client("admin").post(
        CONNECT,
        {
            "account_sid": DEFAULT_ACCOUNT_SID,
            "auth_token": "0" * 32,
            "phone_number": "(415) 555-0100",
            "messaging_service_sid": "",
        },
    )

    assert response.status_code == 400
    assert "Account SID or Auth Token is wrong." in page_text(response)
    assert not Connection.objects.filter(organization=personas.org, state="connected").exists()
