"""``/api/v1/contacts/<id>/``: reading, patching, replacing and deleting one contact."""

from __future__ import annotations

import pytest

from contacts.models import OPT_OUT_TAG, ConsentEvent, Contact
from tests.contacts.helpers import (
    BODY,
    OTHER_PHONE,
    PHONE,
    WRITERS,
    error,
    snapshot,
    state_of,
    tag_names,
    url,
)

pytestmark = pytest.mark.django_db


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
