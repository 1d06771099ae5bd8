"""Tenant isolation, route by route, generated from the URL configuration.

Every page and API route is walked (``tests.urls_walk.routes``). For each one that names an
object in its path, another organization's object is a 404 for every method the route
answers, a viewer's write is a 403, and neither changes a row; without credentials a page
sends to the login page and the API answers 401. A route the walk cannot place (not a page of
the access layer, not an API view, not listed below as public with its reason, or naming an
id no world builds) fails ``test_every_route_is_in_the_matrix``, so a new route cannot
escape the matrix unnoticed.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern
from django.urls.resolvers import RoutePattern
from rest_framework.test import APIClient

from contacts.views import ContactDetailView
from tenants.access import OrganizationView
from tenants.api_base import OrganizationAPIView
from tenants.models import Organization
from tests.urls_walk import WORLD_KWARGS, Route, routes, world_ids

pytestmark = pytest.mark.django_db

# Routes outside the matrix, each with the reason: by name, or every route under a prefix.
PUBLIC: dict[str, str] = {
    "healthz": "the load balancer's probe: no organization, no object",
    "twilio_status_callback": "Twilio's webhook: public, authenticated by its signature",
    "twilio_inbound": "Twilio's webhook: public, authenticated by its signature",
    "automation_webhook": "an automation's incoming webhook: public, authenticated by its secret",
    "api_schema": "the OpenAPI schema: public documentation",
    "api_docs": "the API's documentation page: public",
    "signup": "signing up: before any organization",
    "login": "signing in: before any organization",
    "logout": "signing out: the person's own session",
    "password_change": "the signed-in person's own password, not an organization's",
    "login_two_factor": "signing in, its second step: before any organization",
    "two_factor": "the signed-in person's own two-factor sign-in, not an organization's",
    "two_factor_setup": "the signed-in person's own two-factor sign-in, not an organization's",
    "two_factor_qr": "the signed-in person's own authenticator being set up, no one else's",
    "two_factor_confirm": "the signed-in person's own two-factor sign-in, not an organization's",
    "two_factor_recovery_codes": "the signed-in person's own recovery codes",
    "two_factor_disable": "the signed-in person's own two-factor sign-in, not an organization's",
    "password_reset": "a password reset asked by e-mail: before signing in",
    "password_reset_done": "a password reset asked by e-mail: before signing in",
    "password_reset_confirm": "a password reset link's token: before signing in",
    "invitation_accept": "an invitation link's token: the invitee may have no account yet",
    "organization_create": "a signed-in person creating an organization of their own",
    "organization_switch": "a signed-in person choosing among their own memberships",
}
PUBLIC_PREFIXES: dict[str, str] = {
    "admin/": "Django's admin: staff only, with a sign-in of its own",
    "api/v1/^.*$": "the API's 404 for unknown paths, with or without a key",
}
# POSTs that read: a viewer may make them (they write nothing, which is still checked).
READING_POSTS: dict[str, str] = {
    "api_template_preview": "previewing a template renders it and stores nothing",
    "api_automation_dry_run": "a dry run tells what each step would do and does none of it",
}
METHODS = ("get", "post", "put", "patch", "delete")
WRITES = METHODS[1:]
LOGIN = "/login/"


def public_reason(route: Route) -> str | None:
    if route.name in PUBLIC:
        return PUBLIC[route.name]
    for prefix, reason in PUBLIC_PREFIXES.items():
        if route.route.startswith(prefix):
            return reason
    return None


def kind(route: Route) -> str | None:
    """``public``, ``page`` or ``api``; None for a route the matrix cannot place."""
    if public_reason(route) is not None:
        return "public"
    if not route.kwargs <= WORLD_KWARGS:
        return None  # an id no world builds
    view = route.view_class
    if view is not None and issubclass(view, OrganizationView):
        return "page"
    if (
        view is not None
        and issubclass(view, OrganizationAPIView)
        and route.route.startswith("api/v1/")
    ):
        return "api"
    return None


def methods(route: Route) -> list[str]:
    """The methods the route's view answers (HEAD and OPTIONS aside)."""
    return [method for method in METHODS if hasattr(route.view_class, method)]


def path(route: Route, ids: dict[str, str]) -> str:
    """The route's path with each ``<converter:name>`` filled from ``ids``."""

    def filled(match: re.Match[str]) -> str:
        return ids[match.group(1)]

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", filled, route.route)


ALL = routes()
PAGES = [route for route in ALL if kind(route) == "page"]
APIS = [route for route in ALL if kind(route) == "api"]
PAGES_WITH_IDS = [route for route in PAGES if route.kwargs]
APIS_WITH_IDS = [route for route in APIS if route.kwargs]


def params(found: list[Route], *, writes_only: bool = False) -> list[Any]:
    return [
        pytest.param(route, id=route.route)
        for route in found
        if not writes_only or set(methods(route)) & set(WRITES)
    ]


def rows(organization: Organization) -> dict[str, Any]:
    """What the database holds of ``organization`` (every row of every model that belongs to
    an organization) and how many rows every other table has."""
    held: dict[str, Any] = {}
    for model in apps.get_models():
        if model._meta.app_label == "sessions":
            continue  # the browser's own session
        label = model._meta.label
        fields = {field.name for field in model._meta.concrete_fields}
        if "organization" in fields:
            queryset = model._default_manager.filter(organization=organization).order_by("pk")
            held[label] = [_comparable(row) for row in queryset.values()]
        else:
            held[label] = model._default_manager.count()
    return held


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    # A key's use is stamped on every request it makes: that is the request, not its effect.
    return {name: value for name, value in row.items() if name != "last_used_at"}


def _send(client: Client | APIClient, method: str, target: str) -> Any:
    if isinstance(client, APIClient):
        return getattr(client, method)(target, {}, format="json")
    return getattr(client, method)(target)


# --- Another organization's object is a 404, and nothing changes -------------------------------


@pytest.mark.parametrize("route", params(PAGES_WITH_IDS))
def test_another_organizations_object_is_a_404_on_every_page(personas, route):
    """An owner of A asking a page for B's object, with every method the page answers, is told
    it does not exist (never a 403, which would say it does) and changes nothing of B's."""
    target = path(route, world_ids(personas.other_org, personas.outsider))
    client = personas.client("owner")
    before = rows(personas.other_org)

    answers = {method: _send(client, method, target).status_code for method in methods(route)}

    assert answers == dict.fromkeys(methods(route), 404), target
    assert rows(personas.other_org) == before


@pytest.mark.parametrize("route", params(APIS_WITH_IDS))
def test_another_organizations_object_is_a_404_in_the_api(personas, route):
    """An admin key of A naming B's object, with every method the endpoint answers, gets a
    404 and changes nothing of B's."""
    target = path(route, world_ids(personas.other_org, personas.outsider))
    client = personas.api("owner")  # an admin key: keys cannot be owners
    before = rows(personas.other_org)

    answers = {method: _send(client, method, target).status_code for method in methods(route)}

    assert answers == dict.fromkeys(methods(route), 404), target
    assert rows(personas.other_org) == before


# --- A viewer reads, and writes nothing ---------------------------------------------------------


@pytest.mark.parametrize("route", params(PAGES_WITH_IDS, writes_only=True))
def test_a_viewers_write_to_a_page_is_a_403(personas, route):
    """A viewer posting to a page's write of their own organization's object is refused for
    the role (403: the object is theirs to see) and changes nothing."""
    target = path(route, world_ids(personas.org, personas.marketer))
    client = personas.client("viewer")
    writes = [method for method in methods(route) if method in WRITES]
    before = rows(personas.org)

    answers = {method: _send(client, method, target).status_code for method in writes}

    assert answers == dict.fromkeys(writes, 403), target
    assert rows(personas.org) == before


@pytest.mark.parametrize("route", params(APIS_WITH_IDS, writes_only=True))
def test_a_viewer_keys_write_is_a_403(personas, route):
    """A viewer key's POST, PUT, PATCH or DELETE on its own organization's object is a 403
    and changes nothing (a POST that only reads is answered, and changes nothing either)."""
    target = path(route, world_ids(personas.org, personas.marketer))
    client = personas.api("viewer")
    writes = [method for method in methods(route) if method in WRITES]
    before = rows(personas.org)

    answers = {method: _send(client, method, target).status_code for method in writes}

    if route.name in READING_POSTS:
        assert answers["post"] in (200, 400), target  # the empty body is refused, or read
    else:
        assert answers == dict.fromkeys(writes, 403), target
    assert rows(personas.org) == before


# --- No credentials: the login page, or a 401 ---------------------------------------------------

ANY_IDS = {name: str(uuid.UUID(int=1)) for name in WORLD_KWARGS}


@pytest.mark.parametrize("route", params(PAGES))
def test_a_page_without_a_session_sends_to_the_login_page(client, route):
    """Every method of every page, signed out, is a redirect to the login page that comes
    back to the page afterwards."""
    target = path(route, ANY_IDS)

    for method in methods(route):
        response = _send(client, method, target)

        assert response.status_code == 302, (method, target)
        assert response["Location"] == f"{LOGIN}?next={target}", (method, target)


@pytest.mark.parametrize("route", params(APIS))
def test_the_api_without_a_key_is_a_401(route):
    """Every method of every API route without a key is a 401."""
    target = path(route, ANY_IDS)
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")

    answers = {method: _send(client, method, target).status_code for method in methods(route)}

    assert answers == dict.fromkeys(methods(route), 401), target


# --- No route escapes the matrix ----------------------------------------------------------------


def test_every_route_is_in_the_matrix():
    """Each pattern Django resolves is a page or an API route the tests above walk, or public
    with its reason listed here; a new route that is neither fails, named."""
    walked = routes()

    unplaced = [route.route for route in walked if kind(route) is None]

    assert unplaced == [], f"routes outside the isolation matrix: {unplaced}"
    named = {route.name for route in walked}
    listed = set(PUBLIC) | set(READING_POSTS)
    assert listed <= named, f"listed routes that no longer exist: {listed - named}"
    assert all(any(r.route.startswith(p) for r in walked) for p in PUBLIC_PREFIXES)
    assert {"page", "api"} <= {kind(route) for route in walked if route.kwargs}


def test_a_route_the_access_layer_does_not_guard_is_unplaced():
    """The matrix's own guard: a plain view, or an id no world builds, is not placed."""

    def route(text: str, view: Any) -> Route:
        return Route(text, URLPattern(RoutePattern(text), view, name="made-up"))

    page = ContactDetailView.as_view()

    assert kind(route("reports/<str:report_id>/", lambda request: None)) is None
    assert kind(route("reports/<str:widget_id>/", page)) is None
    assert kind(route("reports/<str:contact_id>/", page)) == "page"


def test_the_world_names_every_id_a_route_takes(personas):
    """The ids the matrix fills in are the ones the world builds, one object each."""
    assert set(world_ids(personas.other_org, personas.outsider)) == WORLD_KWARGS
