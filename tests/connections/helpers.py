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
