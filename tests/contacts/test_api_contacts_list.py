"""``/api/v1/contacts/``: listing the contacts, paging them and filtering the list."""

from __future__ import annotations

from typing import Any

import pytest

from contacts.models import OPT_OUT_TAG, ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from tests.contacts.helpers import CONTACTS, FIELDS, OTHER_PHONE, PHONE, add, error

pytestmark = pytest.mark.django_db


def ids(response: Any) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


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
