"""``/api/v1/automations/<id>/preflight/`` and ``…/launches/``: what each key may reach.

Viewer keys read launches; marketer keys and above ask for the preflight, launch and cancel;
another organization's automation or launch, and a launch under another automation's URL,
are a 404; no key is a 401. A refused call starts, cancels and enqueues nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
import responses
from django.test import TestCase
from rest_framework.test import APIClient

from automations.models import Automation, Launch, LaunchState
from automations.services.launches import WORKERS, launch_create
from tests.automations.api_helpers import WRITERS, error, url
from tests.automations.helpers import active, contact, send, template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

Route = tuple[str, str, Any]
MANUAL = {"type": "manual"}
# Nobody has the tag: the preflight prices nothing, so no call reaches Twilio's prices.
NOBODY = {"has_all_tags": ["vip"]}
READ_ROUTES = ["list", "get"]
WRITE_ROUTES = ["preflight", "launch", "cancel"]
ALL_ROUTES = [*READ_ROUTES, *WRITE_ROUTES]


def routes(automation: Automation | str, launch: Launch | str) -> dict[str, Route]:
    launch_id = launch.public_id if isinstance(launch, Launch) else launch
    return {
        "list": ("get", url(automation, "launches/"), None),
        "get": ("get", url(automation, f"launches/{launch_id}/"), None),
        "preflight": ("post", url(automation, "preflight/"), {"audience": NOBODY}),
        "launch": (
            "post",
            url(automation, "launches/"),
            {"audience": NOBODY, "preflight": {"audience": 0}},
        ),
        "cancel": ("post", url(automation, f"launches/{launch_id}/cancel/"), None),
    }


def call(api: APIClient, route: Route) -> Any:
    """The call, with its after-commit work run, and any HTTP request refused (none leaves)."""
    method, path, data = route
    with responses.RequestsMock(), TestCase.captureOnCommitCallbacks(execute=True):
        if data is None:
            return getattr(api, method)(path)
        return getattr(api, method)(path, data, format="json")


@pytest.fixture
def ours(personas) -> tuple[Automation, Launch]:
    contact(personas)
    automation = active(personas, trigger=MANUAL, steps=[send(template(personas, "Acme only"))])
    return automation, launch_create(automation=automation, audience={"all": True})


def snapshot() -> list[tuple[Any, ...]]:
    return list(Launch.objects.order_by("pk").values_list("pk", "state", "cancelled_by"))


@pytest.mark.parametrize("route", READ_ROUTES)
def test_a_viewer_key_reads(personas, ours, route):
    automation, launch = ours

    response = call(personas.api("viewer"), routes(automation, launch)[route])

    assert response.status_code == 200, response.content
    answer = response.json()
    found = answer["results"][0] if route == "list" else answer
    assert (found["id"], found["total"]) == (str(launch.public_id), 1)


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_a_viewer_key_may_not_write(personas, ours, worked, route):
    automation, launch = ours
    before = snapshot()

    response = call(personas.api("viewer"), routes(automation, launch)[route])

    assert response.status_code == 403, response.content
    assert error(response)["code"] == "permission_denied"
    assert snapshot() == before
    assert worked == []


@pytest.mark.parametrize("persona", WRITERS)
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_owner_admin_and_marketer_keys_write(personas, ours, worked, persona, route):
    automation, launch = ours

    response = call(personas.api(persona), routes(automation, launch)[route])

    assert response.status_code == (201 if route == "launch" else 200), response.content
    if route == "preflight":
        assert (response.json()["audience"], response.json()["cost"]["lines"]) == (0, [])
    if route == "launch":
        launched = Launch.objects.get(public_id=response.json()["id"])
        assert worked == [launched.pk] * WORKERS
    if route == "cancel":
        launch.refresh_from_db()
        assert launch.state == LaunchState.CANCELLED


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_an_outsider_key_gets_404(personas, ours, worked, route):
    automation, launch = ours
    before = snapshot()

    response = call(personas.api("outsider"), routes(automation, launch)[route])

    assert response.status_code == 404, response.content
    assert error(response)["code"] == "not_found"
    assert "Welcome new leads" not in response.content.decode()
    assert snapshot() == before
    assert worked == []


@pytest.mark.parametrize("route", ["get", "cancel"])
def test_a_launch_is_reached_only_under_its_own_automation(personas, ours, route):
    _automation, launch = ours
    sibling = active(
        personas, name="Sibling", trigger=MANUAL, steps=[send(template(personas, "Sibling"))]
    )
    theirs = Automation.objects.create(organization=personas.other_org, name="Theirs")
    before = snapshot()

    for other, persona in ((sibling, "admin"), (theirs, "outsider")):
        response = call(personas.api(persona), routes(other, launch)[route])

        assert response.status_code == 404, response.content
    assert snapshot() == before


@pytest.mark.parametrize("route", ["get", "cancel"])
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"])
def test_malformed_or_unknown_launch_ids_are_404(personas, ours, route, bad_id):
    automation, _launch = ours

    response = call(personas.api("admin"), routes(automation, bad_id)[route])

    assert response.status_code == 404, response.content


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_no_key_is_401(personas, ours, worked, route):
    automation, launch = ours
    before = snapshot()

    response = call(APIClient(HTTP_X_FORWARDED_PROTO="https"), routes(automation, launch)[route])

    assert response.status_code == 401, response.content
    assert error(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before
    assert worked == []


def test_a_wrong_key_is_401(personas, ours):
    automation, _launch = ours
    api = APIClient(HTTP_X_FORWARDED_PROTO="https")
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-key")

    response = api.get(url(automation, "launches/"))

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
