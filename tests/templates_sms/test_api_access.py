"""``/api/v1/templates/``: what each key may reach."""

from __future__ import annotations

from typing import Any

import pytest

from templates_sms.models import SmsTemplate
from tests.templates_sms.helpers import API_BODY as BODY
from tests.templates_sms.helpers import TEMPLATES, error, url
from tests.templates_sms.helpers import api_add as add
from tests.templates_sms.helpers import api_snapshot as snapshot

pytestmark = pytest.mark.django_db


def call(api: Any, method: str, path: str, data: Any = None) -> Any:
    if data is None:
        return getattr(api, method)(path)
    return getattr(api, method)(path, data, format="json")


def read_routes(template: SmsTemplate | str) -> dict[str, tuple[str, str, Any]]:
    return {
        "list": ("get", TEMPLATES, None),
        "get": ("get", url(template), None),
    }


def write_routes(template: SmsTemplate | str) -> dict[str, tuple[str, str, Any]]:
    return {
        "create": ("post", TEMPLATES, {"name": "Sneaky", "body": "Hello"}),
        "patch": ("patch", url(template), {"name": "Renamed"}),
        "put": ("put", url(template), {"name": "Replaced", "body": "Replaced body"}),
        "delete": ("delete", url(template), None),
    }


def object_routes(template: SmsTemplate | str) -> dict[str, tuple[str, str, Any]]:
    return {
        "get": ("get", url(template), None),
        "patch": ("patch", url(template), {"name": "Renamed"}),
        "put": ("put", url(template), {"name": "Replaced", "body": "Replaced body"}),
        "delete": ("delete", url(template), None),
        "preview": ("post", url(template, "preview/"), {}),
    }


ANY = "00000000-0000-0000-0000-000000000000"
READ_ROUTES = list(read_routes(ANY))
WRITE_ROUTES = list(write_routes(ANY))
OBJECT_ROUTES = list(object_routes(ANY))
ALL_ROUTES = sorted({*READ_ROUTES, *WRITE_ROUTES, *OBJECT_ROUTES})


def all_routes(template: SmsTemplate) -> dict[str, tuple[str, str, Any]]:
    return {**read_routes(template), **write_routes(template), **object_routes(template)}


# Who may reach what


@pytest.mark.parametrize("route", READ_ROUTES)
def test_it_lets_a_viewer_key_read(personas, route):
    template = add(personas.org)
    method, path, data = read_routes(template)[route]

    response = call(personas.api("viewer"), method, path, data)

    assert response.status_code == 200
    assert str(template.public_id) in response.content.decode()


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_it_refuses_writes_to_a_viewer_key(personas, route):
    template = add(personas.org)
    method, path, data = write_routes(template)[route]
    before = snapshot()

    response = call(personas.api("viewer"), method, path, data)

    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_it_answers_404_to_another_organizations_key(personas, route):
    ours = add(personas.org, "Acme only", "Secret A text")
    method, path, data = object_routes(ours)[route]
    before = snapshot()

    response = call(personas.api("outsider"), method, path, data)

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert "Secret A text" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_it_answers_404_for_another_organizations_template(personas, route):
    theirs = add(personas.other_org, "Beta only", "Secret B text")
    method, path, data = object_routes(theirs)[route]
    before = snapshot()

    response = call(personas.api("admin"), method, path, data)

    assert response.status_code == 404
    assert "Secret B text" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "data"),
    [("patch", {"body": ""}), ("put", {"name": "Only a name"}), ("put", {})],
)
def test_it_answers_404_to_another_organizations_key_even_for_invalid_input(personas, method, data):
    ours = add(personas.org, "Acme only", "Secret A text")
    before = snapshot()

    response = call(personas.api("outsider"), method, url(ours), data)

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize("method", ["patch", "put"])
def test_it_answers_404_for_a_malformed_id_even_for_invalid_input(personas, method):
    add(personas.org)
    before = snapshot()

    response = call(personas.api("admin"), method, url("not-a-uuid"), {"body": ""})

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"])
def test_it_answers_404_for_malformed_or_unknown_ids(personas, route, bad_id):
    template = add(personas.org)
    method, real_path, data = object_routes(template)[route]
    path = real_path.replace(str(template.public_id), bad_id)
    assert path != real_path
    before = snapshot()

    response = call(personas.api("admin"), method, path, data)

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_it_answers_401_without_a_key(personas, route):
    template = add(personas.org)
    method, path, data = all_routes(template)[route]
    before = snapshot()
    anonymous = personas.api("viewer")
    anonymous.credentials()

    response = call(anonymous, method, path, data)

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Hi {{ first_name }}" not in response.content.decode()
    assert snapshot() == before


def test_it_answers_401_to_a_wrong_key(personas):
    template = add(personas.org)
    api = personas.api("admin")
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-key")

    response = api.get(url(template))

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert BODY not in response.content.decode()
