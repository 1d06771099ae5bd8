"""Shared set-up for the Connection Center tests."""

from __future__ import annotations

from typing import Any

import responses

from connections.models import Connection, TwilioCredentials
from connections.services.connections import twilio_connect
from tenants.actor import Actor
from tests import twilio_mocks as tw


def connect(personas: Any, persona: str = "owner", *, registered: bool = True) -> Connection:
    """Connects the persona's organization to the fixture account and number."""
    membership = personas.membership(persona)
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps, registered=registered)
        return twilio_connect(
            organization=membership.organization,
            by=Actor.for_membership(membership),
            account_sid=tw.ACCOUNT_SID,
            auth_token=tw.AUTH_TOKEN,
            phone_number=tw.NUMBER,
        )


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
