"""Shared by the contact page and API tests: phones, builders and state snapshots."""

from __future__ import annotations

import re
from typing import Any

from contacts.models import ConsentEvent, ConsentSource, ConsentState, Contact, Tag
from contacts.services.consent import consent_opt_out
from contacts.services.contacts import contact_create
from tenants.models import Organization
from tests.factories import page_text

WRITERS = ["owner", "admin", "marketer"]
PHONE = "+14155550123"
OTHER_PHONE = "+14155550124"
RESERVED_WORDS = "kept for opt-outs"
LOCKED_WORDS = "Only the person can opt back in"


def add(organization: Organization, phone: str = PHONE, **data: Any) -> Contact:
    return contact_create(organization=organization, source="test", phone=phone, **data)


def numbered(index: int) -> str:
    return f"+1415555{index:04d}"


def detail_path(contact: Contact) -> str:
    return f"/contacts/{contact.public_id}/"


def visible(response: Any) -> str:
    """The page's text without its markup, to read sentences split by inline tags."""
    return re.sub(r"<[^>]+>", "", page_text(response))


def follow(client: Any, response: Any) -> str:
    """The text of the page a redirect leads to (with its flash messages)."""
    assert response.status_code == 302, response.content
    return visible(client.get(response["Location"]))


def tag_names(contact: Contact) -> set[str]:
    return set(Tag.objects.filter(contacttag__contact_id=contact.pk).values_list("name", flat=True))


def row_count(response: Any) -> int:
    return page_text(response).count('type="checkbox" name="contact"')


def state_of(organization: Organization, phone: str = PHONE) -> ConsentState | None:
    return ConsentState.objects.filter(organization=organization, phone=phone).first()


def snapshot(organization: Organization) -> dict[str, Any]:
    """Everything a contact page or API call could change in an organization."""
    contacts = Contact.objects.filter(organization=organization).order_by("pk")
    return {
        "contacts": [
            (
                c.public_id,
                c.phone,
                c.first_name,
                c.last_name,
                c.email,
                c.time_zone,
                c.custom_fields,
                sorted(tag_names(c)),
            )
            for c in contacts
        ],
        "tags": sorted(
            Tag.objects.filter(organization=organization).values_list("name", flat=True)
        ),
        "states": sorted(
            ConsentState.objects.filter(organization=organization).values_list(
                "phone", "opted_out", "opt_out_source"
            )
        ),
        "events": ConsentEvent.objects.filter(organization=organization).count(),
    }


def stop_by_keyword(organization: Organization, phone: str = PHONE) -> None:
    consent_opt_out(organization=organization, phone=phone, source=ConsentSource.INBOUND_KEYWORD)


# --- Shared by the API tests: the contacts endpoint, a full body and reading answers ------

CONTACTS = "/api/v1/contacts/"
FIELDS = {
    "id",
    "phone",
    "first_name",
    "last_name",
    "email",
    "timezone",
    "custom_fields",
    "tags",
    "opted_out",
    "opted_out_at",
    "created_at",
}


BODY = {
    "phone": "(415) 555-0123",
    "first_name": "Alice",
    "last_name": "Smith",
    "email": "Alice@Example.com",
    "timezone": "Europe/Paris",
    "custom_fields": {"plan": "gold"},
    "tags": ["vip", "newsletter"],
}


def url(contact: Contact | str, tail: str = "") -> str:
    key = contact.public_id if isinstance(contact, Contact) else contact
    return f"{CONTACTS}{key}/{tail}"


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


# --- Shared by test_events_*.py: two numbers, a contact and a tag's id ---------------------

ALICE = "+14155550123"
BOB = "+14155550177"


def create(personas, phone=ALICE, **data):
    return contact_create(organization=personas.org, source="ui", phone=phone, **data)


def tag_id(personas, name: str) -> int:
    return Tag.objects.get(organization=personas.org, name__iexact=name).pk
