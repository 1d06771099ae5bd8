"""``/api/v1/contacts/``: listing, filters, creating, reading, changing and deleting."""

from __future__ import annotations

from typing import Any

import pytest

from contacts.models import (
    OPT_OUT_TAG,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    Contact,
)
from contacts.services.consent import consent_opt_out
from tests.contacts.helpers import (
    OTHER_PHONE,
    PHONE,
    WRITERS,
    add,
    snapshot,
    state_of,
    tag_names,
)

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"
CONSENT = "/api/v1/consent/"
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


def url(contact: Contact | str, tail: str = "") -> str:
    key = contact.public_id if isinstance(contact, Contact) else contact
    return f"{CONTACTS}{key}/{tail}"


def ids(response: Any) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


# --- Listing --------------------------------------------------------------------------------


def test_it_lists_the_contacts_with_their_fields(personas, alice):
    response = personas.api("viewer").get(CONTACTS)

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert body["previous"] is None
    [row] = body["results"]
    assert set(row) >= FIELDS
    assert row["id"] == str(alice.public_id)
    assert row["phone"] == PHONE
    assert row["first_name"] == "Alice"
    assert row["last_name"] == "Smith"
    assert row["email"] == "alice@example.com"
    assert row["timezone"] == "Europe/Paris"
    assert row["custom_fields"] == {"plan": "gold"}
    assert row["tags"] == ["vip"]
    assert row["opted_out"] is False
    assert row["opted_out_at"] is None
    assert row["created_at"]


def test_it_answers_an_empty_list_before_any_contact(personas):
    response = personas.api("viewer").get(CONTACTS)

    assert response.status_code == 200
    assert response.json() == {"results": [], "next": None, "previous": None}


def test_it_pages_the_list_with_a_cursor(personas):
    made = [add(personas.org, f"+141555501{i:02d}", first_name=f"P{i}") for i in range(5)]
    api = personas.api("viewer")

    first = api.get(CONTACTS, {"limit": 2})
    second = api.get(first.json()["next"])
    third = api.get(second.json()["next"])
    back = api.get(third.json()["previous"])

    assert first.status_code == 200
    assert [r["id"] for r in first.json()["results"]] == [
        str(made[4].public_id),
        str(made[3].public_id),
    ]
    assert first.json()["previous"] is None
    assert len(second.json()["results"]) == 2
    assert second.json()["previous"] is not None
    assert len(third.json()["results"]) == 1
    assert third.json()["next"] is None
    assert ids(first) | ids(second) | ids(third) == {str(c.public_id) for c in made}
    assert ids(back) == ids(second)


def test_it_caps_the_page_size_at_200(personas):
    for i in range(3):
        add(personas.org, f"+141555501{i:02d}")

    response = personas.api("viewer").get(CONTACTS, {"limit": 1000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


@pytest.fixture
def people(personas) -> dict[str, Contact]:
    contacts = {
        "alice": add(
            personas.org, PHONE, first_name="Alice", last_name="Smith", email="alice@example.com"
        ),
        "bob": add(personas.org, OTHER_PHONE, first_name="Bob", last_name="Jones", tags=["vip"]),
        "carol": add(
            personas.org, "+12125550100", first_name="Carol", last_name="Alison", tags=["vip"]
        ),
    }
    consent_opt_out(organization=personas.org, phone=OTHER_PHONE, source=ConsentSource.USER)
    return contacts


def found(response: Any, people: dict[str, Contact]) -> set[str]:
    assert response.status_code == 200, response.content
    wanted = ids(response)
    return {key for key, contact in people.items() if str(contact.public_id) in wanted}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tag": "vip"}, {"bob", "carol"}),
        ({"tag": "VIP"}, {"bob", "carol"}),
        ({"tag": OPT_OUT_TAG}, {"bob"}),
        ({"tag": "nothing"}, set()),
        ({"phone": "(415) 555-0123"}, {"alice"}),
        ({"phone": "415.555.0124"}, {"bob"}),
        ({"phone": "+1 212 555 0100"}, {"carol"}),
        ({"opted_out": "true"}, {"bob"}),
        ({"opted_out": "false"}, {"alice", "carol"}),
        ({"q": "ali"}, {"alice", "carol"}),
        ({"q": "alice@example"}, {"alice"}),
        ({"q": "415.555.0124"}, {"bob"}),
        ({"q": "ali", "tag": "vip"}, {"carol"}),
        ({"tag": "vip", "opted_out": "false"}, {"carol"}),
        ({}, {"alice", "bob", "carol"}),
    ],
)
def test_it_filters_the_list(personas, people, params, expected):
    response = personas.api("viewer").get(CONTACTS, params)

    assert found(response, people) == expected


def test_it_shows_the_consent_of_each_listed_contact(personas, people):
    response = personas.api("viewer").get(CONTACTS, {"opted_out": "true"})

    [row] = response.json()["results"]
    assert row["opted_out"] is True
    assert row["opted_out_at"] is not None
    assert row["tags"] == sorted([OPT_OUT_TAG, "vip"])


def test_it_refuses_an_opted_out_filter_that_is_not_true_or_false(personas, people):
    response = personas.api("viewer").get(CONTACTS, {"opted_out": "maybe"})

    assert response.status_code == 400
    assert "opted_out" in error(response)["fields"]


def test_it_refuses_a_phone_filter_that_is_not_a_number(personas, people):
    response = personas.api("viewer").get(CONTACTS, {"phone": "call me"})

    assert response.status_code == 400
    assert "phone" in error(response)["fields"]


# --- Creating -------------------------------------------------------------------------------


BODY = {
    "phone": "(415) 555-0123",
    "first_name": "Alice",
    "last_name": "Smith",
    "email": "Alice@Example.com",
    "timezone": "Europe/Paris",
    "custom_fields": {"plan": "gold"},
    "tags": ["vip", "newsletter"],
}


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


# --- One contact: read, change, delete ------------------------------------------------------


def test_it_shows_one_contact(personas, alice):
    response = personas.api("viewer").get(url(alice))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(alice.public_id)
    assert body["phone"] == PHONE
    assert body["tags"] == ["vip"]
    assert body["custom_fields"] == {"plan": "gold"}
    assert body["opted_out"] is False


@pytest.mark.parametrize("persona", WRITERS)
def test_it_patches_only_the_fields_given(personas, alice, persona):
    response = personas.api(persona).patch(url(alice), {"first_name": "Alicia"}, format="json")

    alice.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["first_name"] == "Alicia"
    assert response.json()["tags"] == ["vip"]
    assert alice.first_name == "Alicia"
    assert alice.last_name == "Smith"
    assert alice.email == "alice@example.com"
    assert alice.phone == PHONE
    assert alice.custom_fields == {"plan": "gold"}
    assert tag_names(alice) == {"vip"}


def test_it_replaces_the_tags_on_patch(personas, alice):
    response = personas.api("marketer").patch(
        url(alice), {"tags": ["newsletter", "Summer sale"]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["tags"] == ["Summer sale", "newsletter"]
    assert tag_names(alice) == {"newsletter", "Summer sale"}


def test_it_clears_the_tags_on_patch_with_an_empty_list(personas, alice):
    response = personas.api("marketer").patch(url(alice), {"tags": []}, format="json")

    assert response.status_code == 200
    assert response.json()["tags"] == []
    assert tag_names(alice) == set()


def test_it_keeps_the_reserved_tag_when_tags_are_replaced(personas, bob):
    response = personas.api("marketer").patch(url(bob), {"tags": ["new"]}, format="json")

    assert response.status_code == 200
    assert response.json()["tags"] == sorted(["new", OPT_OUT_TAG])
    assert response.json()["opted_out"] is True
    assert tag_names(bob) == {"new", OPT_OUT_TAG}


def test_it_refuses_the_reserved_tag_on_patch(personas, alice):
    before = snapshot(personas.org)

    response = personas.api("marketer").patch(
        url(alice), {"tags": ["vip", OPT_OUT_TAG]}, format="json"
    )

    assert response.status_code == 400
    assert error(response)["code"] == "reserved_tag"
    assert snapshot(personas.org) == before


def test_it_changes_the_phone_on_patch(personas, alice):
    response = personas.api("marketer").patch(
        url(alice), {"phone": "(415) 555-0199"}, format="json"
    )

    alice.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["phone"] == "+14155550199"
    assert alice.phone == "+14155550199"


def test_it_refuses_a_patch_onto_another_contacts_phone(personas, alice, bob):
    before = snapshot(personas.org)

    response = personas.api("marketer").patch(url(alice), {"phone": "415.555.0124"}, format="json")

    assert response.status_code == 409
    assert error(response)["code"] == "duplicate_phone"
    assert snapshot(personas.org) == before


def test_it_refuses_an_invalid_patch_and_changes_nothing(personas, alice):
    before = snapshot(personas.org)

    response = personas.api("marketer").patch(
        url(alice), {"first_name": "Changed", "email": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert "email" in error(response)["fields"]
    assert snapshot(personas.org) == before


@pytest.mark.parametrize("persona", WRITERS)
def test_it_replaces_every_field_on_put(personas, alice, persona):
    response = personas.api(persona).put(
        url(alice), {"phone": "+1 415 555 0199", "first_name": "New"}, format="json"
    )

    alice.refresh_from_db()
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phone"] == "+14155550199"
    assert body["first_name"] == "New"
    assert body["last_name"] == ""
    assert body["email"] == ""
    assert body["custom_fields"] == {}
    assert body["tags"] == []
    assert alice.phone == "+14155550199"
    assert alice.name == "New"
    assert alice.email == ""
    assert alice.custom_fields == {}
    assert tag_names(alice) == set()


def test_it_sets_every_field_given_on_put(personas, alice):
    response = personas.api("marketer").put(
        url(alice),
        {**BODY, "phone": PHONE, "custom_fields": {"tier": "2"}, "tags": ["a"]},
        format="json",
    )

    alice.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["custom_fields"] == {"tier": "2"}
    assert response.json()["tags"] == ["a"]
    assert alice.custom_fields == {"tier": "2"}
    assert tag_names(alice) == {"a"}


def test_it_requires_the_phone_on_put(personas, alice):
    before = snapshot(personas.org)

    response = personas.api("marketer").put(url(alice), {"first_name": "New"}, format="json")

    assert response.status_code == 400
    assert "phone" in error(response)["fields"]
    assert snapshot(personas.org) == before


@pytest.mark.parametrize("persona", WRITERS)
def test_it_deletes_a_contact(personas, alice, persona):
    api = personas.api(persona)

    response = api.delete(url(alice))

    assert response.status_code == 204
    assert not Contact.objects.filter(pk=alice.pk).exists()
    assert api.get(url(alice)).status_code == 404


def test_it_keeps_a_deleted_numbers_opt_out(personas, bob):
    response = personas.api("marketer").delete(url(bob))

    assert response.status_code == 204
    assert not Contact.objects.filter(pk=bob.pk).exists()
    assert state_of(personas.org, OTHER_PHONE).opted_out  # type: ignore[union-attr]
    assert ConsentEvent.objects.filter(organization=personas.org, phone=OTHER_PHONE).exists()
