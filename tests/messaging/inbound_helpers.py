"""Helpers shared by the inbound-message tests: posting, TwiML, consent."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from connections.models import Connection
from contacts.models import OPT_OUT_TAG, ConsentEvent, ConsentState, Contact
from messaging.models import Message, MessageEvent
from tests.messaging import webhook_helpers as wh

ALICE = wh.CUSTOMER
BOB = "+14155550177"


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
