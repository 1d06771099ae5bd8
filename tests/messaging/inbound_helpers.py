"""Fixtures and helpers shared by the inbound-message tests: posting, TwiML, consent, signals."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

from connections.models import Connection
from contacts import signals as contact_signals
from contacts.models import OPT_OUT_TAG, ConsentEvent, ConsentState, Contact
from messaging import signals
from messaging.models import Message, MessageEvent
from tests.connections.helpers import connect
from tests.messaging import webhook_helpers as wh

ALICE = wh.CUSTOMER
BOB = "+14155550177"

Received = list[dict[str, Any]]


@pytest.fixture(name="connection")
def fixture_connection(personas) -> Connection:
    return connect(personas)


def _listen(signal: Any) -> Iterator[Received]:
    received: Received = []

    def receiver(sender: Any, *, signal: Any, **payload: Any) -> None:
        assert sender is None
        received.append(payload)

    signal.connect(receiver, weak=False)
    yield received
    assert signal.disconnect(receiver)


@pytest.fixture(name="inbound_events")
def fixture_inbound_events() -> Iterator[Received]:
    """Every ``messaging.signals.inbound_received`` sent, as its payload."""
    yield from _listen(signals.inbound_received)


@pytest.fixture(name="created_events")
def fixture_created_events() -> Iterator[Received]:
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
