"""``/api/v1/automations/``: what each key may reach, on every endpoint.

Viewer keys read (and dry-run, which changes nothing); marketer keys and above write; another
organization's automation or contact is a 404; no key is a 401.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from automations.models import Automation
from contacts.models import Contact
from tests.automations.api_helpers import (
    AUTOMATIONS,
    TAG,
    WRITERS,
    body,
    error,
    send_step,
    snapshot,
    url,
)
from tests.automations.helpers import active, template
from tests.messaging.api_helpers import add_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

Route = tuple[str, str, Any]
ANY = "00000000-0000-0000-0000-000000000000"


def contact_id(person: Contact | None) -> str:
    return str(person.public_id) if person else ANY


def read_routes(automation: Automation | str, person: Contact | None) -> dict[str, Route]:
    return {
        "list": ("get", AUTOMATIONS, None),
        "get": ("get", url(automation), None),
        "runs": ("get", url(automation, "runs/"), None),
        "dry-run": ("post", url(automation, "dry-run/"), {"contact": contact_id(person)}),
    }


def write_routes(
    automation: Automation | str, person: Contact | None, new: dict[str, Any]
) -> dict[str, Route]:
    return {
        "create": ("post", AUTOMATIONS, new),
        "patch": ("patch", url(automation), {"name": "Renamed"}),
        "archive": ("patch", url(automation), {"state": "archived"}),
        "publish": ("post", url(automation, "publish/"), None),
        "activate": ("post", url(automation, "activate/"), None),
        "pause": ("post", url(automation, "pause/"), None),
        "enrol": ("post", url(automation, "enrol/"), {"contact": contact_id(person)}),
        "delete": ("delete", url(automation), None),
    }


# What a writer's call answers: the delete that is never allowed is 405, whoever asks.
WRITTEN = {"create": 201, "enrol": 201, "delete": 405}
READ_ROUTES = list(read_routes(ANY, None))
WRITE_ROUTES = list(write_routes(ANY, None, {}))
OBJECT_ROUTES = [r for r in [*READ_ROUTES, *WRITE_ROUTES] if r not in ("list", "create")]
ALL_ROUTES = [*READ_ROUTES, *WRITE_ROUTES]


def call(api: APIClient, route: Route) -> Any:
    method, path, data = route
    if data is None:
        return getattr(api, method)(path)
    return getattr(api, method)(path, data, format="json")


@pytest.fixture
def ours(personas) -> tuple[Automation, Contact, dict[str, Any]]:
    welcome = template(personas, "Acme only", "Secret A text")
    automation = active(personas, trigger=TAG, steps=[send_step(welcome)])
    return automation, add_contact(personas.org), body(welcome, name="Another")


def all_routes(automation: Automation, person: Contact, new: dict[str, Any]) -> dict[str, Route]:
    return {**read_routes(automation, person), **write_routes(automation, person, new)}


@pytest.mark.parametrize("route", READ_ROUTES)
def test_a_viewer_key_reads(personas, ours, route):
    automation, person, _new = ours
    before = snapshot()

    response = call(personas.api("viewer"), read_routes(automation, person)[route])

    assert response.status_code == 200, response.content
    answer = response.json()
    if route == "list":
        assert [row["id"] for row in answer["results"]] == [str(automation.public_id)]
    if route == "get":
        assert answer["id"] == str(automation.public_id)
    if route == "runs":
        assert answer == {"results": [], "next": None, "previous": None}
    if route == "dry-run":
        assert answer["would_enrol"] is True
    assert snapshot() == before


@pytest.mark.parametrize("persona", WRITERS)
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_owner_admin_and_marketer_keys_write(personas, ours, persona, route):
    automation, person, new = ours

    response = call(personas.api(persona), write_routes(automation, person, new)[route])

    assert response.status_code == WRITTEN.get(route, 200), response.content
    automation.refresh_from_db()
    if route == "create":
        assert Automation.objects.filter(name="Another", organization=personas.org).exists()
    if route == "patch":
        assert automation.name == "Renamed"
    if route in ("archive", "pause"):
        assert automation.state == {"archive": "archived", "pause": "paused"}[route]
    if route == "enrol":
        assert automation.runs.get().contact == person
    if route == "delete":
        assert Automation.objects.filter(pk=automation.pk).exists()


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_a_viewer_key_may_not_write(personas, ours, route):
    automation, person, new = ours
    before = snapshot()

    response = call(personas.api("viewer"), write_routes(automation, person, new)[route])

    assert response.status_code == 403, response.content
    assert error(response)["code"] == "permission_denied"
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_an_outsider_key_gets_404(personas, ours, route):
    automation, person, new = ours
    before = snapshot()

    response = call(personas.api("outsider"), all_routes(automation, person, new)[route])

    assert response.status_code == 404, response.content
    assert error(response)["code"] == "not_found"
    assert "Secret A text" not in response.content.decode()
    assert "Welcome new leads" not in response.content.decode()
    assert snapshot() == before


def test_an_outsider_key_lists_only_its_own(personas, ours):
    response = personas.api("outsider").get(AUTOMATIONS)

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("route", ["enrol", "dry-run"])
def test_another_organizations_contact_is_404(personas, ours, route):
    automation, _person, new = ours
    theirs = add_contact(personas.other_org)
    before = snapshot()

    response = call(personas.api("admin"), all_routes(automation, theirs, new)[route])

    assert response.status_code == 404, response.content
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"])
def test_malformed_or_unknown_ids_are_404(personas, ours, route, bad_id):
    automation, person, new = ours
    method, real_path, data = all_routes(automation, person, new)[route]
    path = real_path.replace(str(automation.public_id), bad_id)
    before = snapshot()

    response = call(personas.api("admin"), (method, path, data))

    assert response.status_code == 404, response.content
    assert snapshot() == before


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_no_key_is_401(personas, ours, route):
    automation, person, new = ours
    before = snapshot()
    anonymous = APIClient(HTTP_X_FORWARDED_PROTO="https")

    response = call(anonymous, all_routes(automation, person, new)[route])

    assert response.status_code == 401, response.content
    assert error(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Secret A text" not in response.content.decode()
    assert snapshot() == before


def test_a_wrong_key_is_401(personas, ours):
    automation, _person, _new = ours
    api = APIClient(HTTP_X_FORWARDED_PROTO="https")
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-key")

    response = api.get(url(automation))

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
