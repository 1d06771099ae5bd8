"""Tags and consent through the API, ``/api/v1/consent/``, and what each key may reach."""

from __future__ import annotations

from typing import Any

import pytest

from contacts.models import (
    OPT_OUT_TAG,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    Contact,
    Tag,
)
from tests.contacts.helpers import (
    CONTACTS,
    LOCKED_WORDS,
    OTHER_PHONE,
    PHONE,
    WRITERS,
    add,
    error,
    snapshot,
    state_of,
    stop_by_keyword,
    tag_names,
    url,
)

pytestmark = pytest.mark.django_db

CONSENT = "/api/v1/consent/"


def ids(response: Any) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


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


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"])
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
