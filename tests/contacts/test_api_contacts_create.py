"""``/api/v1/contacts/``: creating a contact (POST) and refusing invalid ones."""

from __future__ import annotations

import pytest

from contacts.models import OPT_OUT_TAG, ConsentState, Contact
from tests.contacts.helpers import (
    BODY,
    CONTACTS,
    FIELDS,
    PHONE,
    WRITERS,
    error,
    tag_names,
    url,
)

pytestmark = pytest.mark.django_db


# --- Creating -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", WRITERS)
def test_it_creates_a_contact(personas, persona):
    response = personas.api(persona).post(CONTACTS, BODY, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    contact = Contact.objects.get(organization=personas.org)
    assert set(body) >= FIELDS
    assert body["id"] == str(contact.public_id)
    assert body["phone"] == PHONE
    assert body["first_name"] == "Alice"
    assert body["last_name"] == "Smith"
    assert body["email"] == "alice@example.com"
    assert body["timezone"] == "Europe/Paris"
    assert body["custom_fields"] == {"plan": "gold"}
    assert body["tags"] == ["newsletter", "vip"]
    assert body["opted_out"] is False
    assert body["opted_out_at"] is None
    assert body["created_at"]
    assert contact.phone == PHONE
    assert contact.time_zone == "Europe/Paris"
    assert contact.custom_fields == {"plan": "gold"}
    assert tag_names(contact) == {"vip", "newsletter"}


def test_it_creates_a_contact_from_a_phone_alone(personas):
    response = personas.api("marketer").post(CONTACTS, {"phone": "415 555 0123"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["phone"] == PHONE
    assert body["timezone"] == "America/Los_Angeles"
    assert body["tags"] == []
    assert body["custom_fields"] == {}
    assert Contact.objects.filter(organization=personas.org, phone=PHONE).exists()


def test_it_creates_a_number_that_opted_out_before_as_opted_out(personas, bob):
    api = personas.api("marketer")
    assert api.delete(url(bob)).status_code == 204

    response = api.post(CONTACTS, {"phone": "415-555-0124"}, format="json")

    assert response.status_code == 201
    assert response.json()["opted_out"] is True
    assert response.json()["opted_out_at"] is not None
    assert OPT_OUT_TAG in response.json()["tags"]


def test_it_refuses_a_duplicate_phone_with_409(personas, alice):
    response = personas.api("marketer").post(
        CONTACTS, {**BODY, "phone": "415.555.0123", "first_name": "Twin"}, format="json"
    )

    assert response.status_code == 409
    assert error(response)["code"] == "duplicate_phone"
    assert "phone" in error(response)["fields"]
    assert Contact.objects.filter(organization=personas.org).count() == 1
    assert not Contact.objects.filter(first_name="Twin").exists()


@pytest.mark.parametrize("phone", ["not a phone", "12", "+1 415 555 01234567"])
def test_it_refuses_an_invalid_phone(personas, phone):
    response = personas.api("marketer").post(CONTACTS, {**BODY, "phone": phone}, format="json")

    assert response.status_code == 400
    assert error(response)["fields"]["phone"]
    assert not Contact.objects.exists()


def test_it_requires_a_phone(personas):
    response = personas.api("marketer").post(CONTACTS, {"first_name": "Alice"}, format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"
    assert "phone" in error(response)["fields"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize("name", [OPT_OUT_TAG, "twilio-message-stop"])
def test_it_refuses_the_reserved_tag_on_create(personas, name):
    response = personas.api("marketer").post(
        CONTACTS, {**BODY, "tags": ["vip", name]}, format="json"
    )

    assert response.status_code == 400
    assert error(response)["code"] == "reserved_tag"
    assert "kept for opt-outs" in " ".join(error(response)["fields"]["tags"])
    assert not Contact.objects.exists()
    assert not ConsentState.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"custom_fields": {"Plan Name": "gold"}}, "custom_fields"),
        ({"tags": ["<script>"]}, "tags"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_it_names_the_invalid_field(personas, changes, field):
    response = personas.api("marketer").post(CONTACTS, {**BODY, **changes}, format="json")

    assert response.status_code == 400
    assert field in error(response)["fields"], error(response)
    assert not Contact.objects.exists()
