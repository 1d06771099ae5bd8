"""``/api/v1/contacts/`` and ``/api/v1/consent/``: listing, filters, writes, tags, consent, and
what each key may reach."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from contacts.models import (
    OPT_OUT_TAG,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    Contact,
    Tag,
)
from contacts.services.consent import consent_opt_out
from contacts.services.contacts import contact_create
from tenants.models import Organization

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"
CONSENT = "/api/v1/consent/"
WRITERS = ["owner", "admin", "marketer"]
PHONE = "+14155550123"
OTHER_PHONE = "+14155550124"
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
LOCKED_WORDS = "Only the person can opt back in"


def add(organization: Organization, phone: str = PHONE, **data: Any) -> Contact:
    return contact_create(organization=organization, source="test", phone=phone, **data)


def url(contact: Contact | str, tail: str = "") -> str:
    key = contact.public_id if isinstance(contact, Contact) else contact
    return f"{CONTACTS}{key}/{tail}"


def tag_names(contact: Contact) -> set[str]:
    return set(Tag.objects.filter(contacttag__contact_id=contact.pk).values_list("name", flat=True))


def ids(response: Any) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def state_of(organization: Organization, phone: str = PHONE) -> ConsentState | None:
    return ConsentState.objects.filter(organization=organization, phone=phone).first()


def snapshot(organization: Organization) -> dict[str, Any]:
    """Everything a contacts API call could change in an organization."""
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


@pytest.fixture
def alice(personas) -> Contact:
    return add(
        personas.org,
        PHONE,
        first_name="Alice",
        last_name="Smith",
        email="alice@example.com",
        time_zone="Europe/Paris",
        custom_fields={"plan": "gold"},
        tags=["vip"],
    )


@pytest.fixture
def bob(personas) -> Contact:
    """Opted out by a user (so a user may opt him back in)."""
    contact = add(personas.org, OTHER_PHONE, first_name="Bob", last_name="Jones", tags=["vip"])
    consent_opt_out(organization=personas.org, phone=contact.phone, source=ConsentSource.USER)
    return contact


def stop_by_keyword(organization: Organization, phone: str = PHONE) -> None:
    consent_opt_out(organization=organization, phone=phone, source=ConsentSource.INBOUND_KEYWORD)


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


# --- Tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", WRITERS)
def test_it_adds_a_tag_with_201(personas, alice, persona):
    response = personas.api(persona).post(url(alice, "tags/"), {"name": "promo"}, format="json")

    assert response.status_code == 201
    assert response.json()["tags"] == ["promo", "vip"]
    assert tag_names(alice) == {"promo", "vip"}


def test_it_answers_200_for_a_tag_already_there(personas, alice):
    api = personas.api("marketer")

    same = api.post(url(alice, "tags/"), {"name": "vip"}, format="json")
    other_case = api.post(url(alice, "tags/"), {"name": "VIP"}, format="json")

    assert same.status_code == 200
    assert other_case.status_code == 200
    assert other_case.json()["tags"] == ["vip"]
    assert tag_names(alice) == {"vip"}
    assert Tag.objects.filter(organization=personas.org, name__iexact="vip").count() == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"name": OPT_OUT_TAG}, "reserved_tag"),
        ({"name": "<b>bold</b>"}, "validation_error"),
        ({}, "validation_error"),
    ],
)
def test_it_refuses_a_tag_it_cannot_add(personas, alice, payload, code):
    before = snapshot(personas.org)

    response = personas.api("marketer").post(url(alice, "tags/"), payload, format="json")

    assert response.status_code == 400
    assert error(response)["code"] == code
    assert snapshot(personas.org) == before


@pytest.mark.parametrize("persona", WRITERS)
def test_it_removes_a_tag(personas, alice, persona):
    response = personas.api(persona).delete(url(alice, "tags/vip/"))

    assert response.status_code == 200
    assert response.json()["tags"] == []
    assert tag_names(alice) == set()


def test_it_removes_a_tag_named_in_another_case_or_with_a_space(personas, alice):
    api = personas.api("marketer")
    api.post(url(alice, "tags/"), {"name": "summer sale"}, format="json")

    spaced = api.delete(url(alice, "tags/summer%20sale/"))
    other_case = api.delete(url(alice, "tags/VIP/"))

    assert spaced.status_code == 200
    assert other_case.status_code == 200
    assert other_case.json()["tags"] == []
    assert tag_names(alice) == set()


def test_it_answers_200_when_removing_a_tag_the_contact_lacks(personas, alice):
    response = personas.api("marketer").delete(url(alice, "tags/other/"))

    assert response.status_code == 200
    assert response.json()["tags"] == ["vip"]
    assert tag_names(alice) == {"vip"}


def test_it_refuses_to_remove_the_reserved_tag(personas, bob):
    before = snapshot(personas.org)

    response = personas.api("marketer").delete(url(bob, f"tags/{OPT_OUT_TAG}/"))

    assert response.status_code == 400
    assert error(response)["code"] == "reserved_tag"
    assert snapshot(personas.org) == before
    assert OPT_OUT_TAG in tag_names(bob)
    assert state_of(personas.org, OTHER_PHONE).opted_out  # type: ignore[union-attr]


# --- Consent --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", WRITERS)
def test_it_opts_a_contact_out_and_back_in(personas, alice, persona):
    api = personas.api(persona)

    out = api.post(url(alice, "opt-out/"))

    assert out.status_code == 200
    assert out.json()["opted_out"] is True
    assert out.json()["opted_out_at"] is not None
    assert OPT_OUT_TAG in out.json()["tags"]
    state = state_of(personas.org)
    assert state is not None
    assert state.opted_out
    assert state.opt_out_source == ConsentSource.USER

    back = api.post(url(alice, "opt-in/"))

    assert back.status_code == 200
    assert back.json()["opted_out"] is False
    assert back.json()["opted_out_at"] is None
    assert OPT_OUT_TAG not in back.json()["tags"]
    state.refresh_from_db()
    assert not state.opted_out
    assert OPT_OUT_TAG not in tag_names(alice)
    events = list(
        ConsentEvent.objects.filter(organization=personas.org, phone=PHONE).order_by("pk")
    )
    assert [e.kind for e in events] == [ConsentKind.OPT_OUT, ConsentKind.OPT_IN]
    assert {e.source for e in events} == {ConsentSource.USER}
    assert {e.actor for e in events} == {f"API key {persona}"}
    assert {e.contact_id for e in events} == {alice.pk}


def test_it_answers_200_to_an_opt_out_already_made(personas, bob):
    response = personas.api("marketer").post(url(bob, "opt-out/"))

    assert response.status_code == 200
    assert response.json()["opted_out"] is True
    assert state_of(personas.org, OTHER_PHONE).opted_out  # type: ignore[union-attr]


def test_it_refuses_an_opt_in_after_the_persons_stop_with_409(personas, alice):
    stop_by_keyword(personas.org)
    before = snapshot(personas.org)

    response = personas.api("admin").post(url(alice, "opt-in/"))

    assert response.status_code == 409
    assert error(response)["code"] == "consent_locked"
    assert LOCKED_WORDS in error(response)["message"]
    assert snapshot(personas.org) == before
    state = state_of(personas.org)
    assert state is not None
    assert state.opted_out
    assert state.opt_out_source == ConsentSource.INBOUND_KEYWORD
    assert personas.api("viewer").get(url(alice)).json()["opted_out"] is True


def test_it_lists_the_consent_ledger(personas, alice, bob):
    stop_by_keyword(personas.org, "+12125550100")
    personas.api("marketer").post(url(alice, "opt-out/"))

    response = personas.api("viewer").get(CONSENT)

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    rows = body["results"]
    assert [(r["phone"], r["kind"], r["source"]) for r in rows] == [
        (PHONE, "opt_out", "user"),
        ("+12125550100", "opt_out", "inbound_keyword"),
        (OTHER_PHONE, "opt_out", "user"),
    ]
    assert rows[0]["actor"] == "API key marketer"
    assert rows[0]["contact_id"] == str(alice.public_id)
    assert rows[1]["contact_id"] is None
    assert all(r["id"] and r["created_at"] for r in rows)


def test_it_filters_the_ledger_by_phone_in_any_format(personas, alice, bob):
    api = personas.api("marketer")
    api.post(url(alice, "opt-out/"))
    api.post(url(alice, "opt-in/"))

    response = personas.api("viewer").get(CONSENT, {"phone": "(415) 555-0123"})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["phone"], r["kind"]) for r in rows] == [(PHONE, "opt_in"), (PHONE, "opt_out")]


def test_it_pages_the_ledger(personas, alice):
    api = personas.api("marketer")
    for _ in range(2):
        api.post(url(alice, "opt-out/"))
        api.post(url(alice, "opt-in/"))

    first = personas.api("viewer").get(CONSENT, {"limit": 3})
    second = personas.api("viewer").get(first.json()["next"])

    assert len(first.json()["results"]) == 3
    assert len(second.json()["results"]) == 1
    assert second.json()["next"] is None


# --- Keys, roles and other organizations ----------------------------------------------------


Route = tuple[str, str, dict[str, Any] | None]


def routes(alice: Contact, bob: Contact) -> dict[str, Route]:
    """Every write route, with a body that would change something."""
    return {
        "create": ("post", CONTACTS, {"phone": "+14155550999", "first_name": "Eve"}),
        "patch": ("patch", url(alice), {"first_name": "Changed", "tags": ["x"]}),
        "put": ("put", url(alice), {"phone": "+14155550999"}),
        "delete": ("delete", url(alice), None),
        "tag-add": ("post", url(alice, "tags/"), {"name": "promo"}),
        "tag-remove": ("delete", url(alice, "tags/vip/"), None),
        "opt-out": ("post", url(alice, "opt-out/"), None),
        "opt-in": ("post", url(bob, "opt-in/"), None),
    }


def object_routes(alice: Contact, bob: Contact) -> dict[str, Route]:
    """Every route on one contact."""
    found = routes(alice, bob)
    del found["create"]
    return {"read": ("get", url(alice), None), **found}


def read_routes(alice: Contact) -> dict[str, Route]:
    return {
        "list": ("get", CONTACTS, None),
        "read": ("get", url(alice), None),
        "ledger": ("get", CONSENT, None),
    }


WRITE_ROUTES = ["create", "patch", "put", "delete", "tag-add", "tag-remove", "opt-out", "opt-in"]
OBJECT_ROUTES = ["read", *WRITE_ROUTES[1:]]
ALL_ROUTES = ["list", "read", "ledger", *WRITE_ROUTES]


def call(api: Any, method: str, path: str, data: dict[str, Any] | None) -> Any:
    if data is None:
        return getattr(api, method)(path)
    return getattr(api, method)(path, data, format="json")


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_it_refuses_a_viewer_keys_writes_and_changes_nothing(personas, alice, bob, route):
    method, path, data = routes(alice, bob)[route]
    before = snapshot(personas.org)

    response = call(personas.api("viewer"), method, path, data)

    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert snapshot(personas.org) == before


@pytest.mark.parametrize("path", [CONTACTS, CONSENT])
def test_it_lets_a_viewer_key_read(personas, bob, path):
    response = personas.api("viewer").get(path)

    assert response.status_code == 200
    assert response.json()["results"]


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_it_answers_404_to_another_organizations_key(personas, alice, bob, route):
    method, path, data = object_routes(alice, bob)[route]
    before = snapshot(personas.org)
    outsider_before = snapshot(personas.other_org)

    response = call(personas.api("outsider"), method, path, data)

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert "Alice" not in response.content.decode()
    assert snapshot(personas.org) == before
    assert snapshot(personas.other_org) == outsider_before


def test_it_keeps_another_organizations_contacts_and_ledger_out_of_lists(personas, alice, bob):
    own = add(personas.other_org, "+12125550100", first_name="Beatrice")
    api = personas.api("outsider")

    listing = api.get(CONTACTS)
    by_phone = api.get(CONTACTS, {"phone": PHONE})
    by_search = api.get(CONTACTS, {"q": "alice"})
    ledger = api.get(CONSENT)
    ledger_by_phone = api.get(CONSENT, {"phone": OTHER_PHONE})

    assert ids(listing) == {str(own.public_id)}
    assert ids(by_phone) == set()
    assert ids(by_search) == set()
    assert ledger.json()["results"] == []
    assert ledger_by_phone.json()["results"] == []


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", str(uuid.uuid4())])
@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_it_answers_404_to_malformed_or_unknown_ids(personas, alice, bob, route, bad_id):
    method, real_path, data = object_routes(alice, bob)[route]
    path = real_path.replace(str(alice.public_id), bad_id).replace(str(bob.public_id), bad_id)
    assert path != real_path
    before = snapshot(personas.org)

    response = call(personas.api("admin"), method, path, data)

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert snapshot(personas.org) == before


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_it_answers_401_without_a_key(personas, alice, bob, route):
    method, path, data = {**read_routes(alice), **routes(alice, bob)}[route]
    before = snapshot(personas.org)
    anonymous = personas.api("viewer")
    anonymous.credentials()

    response = call(anonymous, method, path, data)

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot(personas.org) == before


def test_it_answers_401_to_a_wrong_key(personas, alice):
    api = personas.api("admin")
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-key")

    response = api.get(url(alice))

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert "Alice" not in response.content.decode()
