"""Shared set-up for the Connection Center tests, and ``connect``, which every test that needs a
connected organization uses."""

from __future__ import annotations

from typing import Any

import responses

from connections.models import Connection, TwilioCredentials
from connections.services.connections import twilio_connect
from messaging import ratelimit
from tenants.actor import Actor
from tests import twilio_mocks as tw
from tests.factories import Personas


def connect(
    personas: Personas,
    persona: str = "owner",
    *,
    sender: str = tw.NUMBER,
    registered: bool = True,
    account_sid: str = tw.ACCOUNT_SID,
    auth_token: str = tw.AUTH_TOKEN,
    mock_twilio: bool = True,
) -> Connection:
    """The persona's organization connected to Twilio through the verified connect flow,
    with a fresh send budget (the sender's rate limit forgotten).

    ``sender`` is a phone number, or a Messaging Service SID (``MG…``) to send through the
    service instead of a number. With ``mock_twilio`` Twilio is mocked at the HTTP level as an
    active paid account (``account_sid``; any ``auth_token`` is accepted, and stored) whose
    local number is in an A2P-``registered`` (or unregistered) Messaging Service, or whose
    Messaging Service ``tw.SERVICE_SID`` holds ``tw.NUMBER``. Without, the flow asks the Twilio
    the settings point at (a sandbox the test started).
    """
    membership = personas.membership(persona)
    via_service = sender.startswith("MG")

    def connected() -> Connection:
        return twilio_connect(
            organization=membership.organization,
            by=Actor.for_membership(membership),
            account_sid=account_sid,
            auth_token=auth_token,
            phone_number="" if via_service else sender,
            messaging_service_sid=sender if via_service else "",
        )

    if not mock_twilio:
        connection = connected()
    else:
        with responses.RequestsMock() as rsps:
            if via_service:
                assert sender == tw.SERVICE_SID, "the fixtures describe one Messaging Service"
                tw.account(rsps, account_sid=account_sid)
                tw.messaging_service(rsps, registered=registered)
                tw.service_numbers(rsps)
            else:
                tw.happy_local_number(
                    rsps, registered=registered, account_sid=account_sid, number=sender
                )
            connection = connected()
    ratelimit.reset(f"sender:{connection.pk}")
    return connection


def rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every Connection and TwilioCredentials row, to prove that nothing changed."""
    return (
        [dict(row) for row in Connection.objects.order_by("pk").values()],
        [dict(row) for row in TwilioCredentials.objects.order_by("pk").values()],
    )


def credentials_of(organization: Any) -> TwilioCredentials:
    return TwilioCredentials.objects.get(connection__organization=organization)


WEBHOOK_PREFIX = "https://hub.example.com/webhooks/twilio/inbound/"


# --- Shared by test_api_*.py: the REST endpoint and the body of a PUT ----------------------

URL = "/api/v1/connections/twilio/"
OTHER_TOKEN = "a" * 32


def number_body(**changes: str) -> dict:
    body = {"account_sid": tw.ACCOUNT_SID, "auth_token": tw.AUTH_TOKEN, "phone_number": tw.NUMBER}
    body.update(changes)
    return body


# --- Shared by test_pages_*.py: the pages, the connect form and the connection -------------

CENTER = "/connections/"
DETAIL = "/connections/twilio/"
CONNECT = "/connections/twilio/connect/"
VERIFY = "/connections/twilio/verify/"
CONFIGURE = "/connections/twilio/configure-number/"
SEND_RATE = "/connections/twilio/send-rate/"
ROTATE = "/connections/twilio/rotate-key/"
DISCONNECT = "/connections/twilio/disconnect/"

BAD_KEYS = "Account SID or Auth Token is wrong."

FORM = {
    "account_sid": tw.ACCOUNT_SID,
    "auth_token": tw.AUTH_TOKEN,
    "phone_number": "(415) 555-0100",
    "messaging_service_sid": "",
}


def connection_of(organization) -> Connection:
    return Connection.objects.get(organization=organization)
