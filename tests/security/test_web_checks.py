"""Web checks over every page and fragment the URL configuration serves (tests.urls_walk).

- Every POST form carries the CSRF token, and a POST without the token to its action (or to
  any route of the app's shell, for what scripts post) is refused (403) with nothing changed.
- Text that people, imports or remote systems stored (contacts, tags, templates, automations,
  messages, imports, webhook endpoints and their deliveries, members, invitations, keys, the
  connection, the organization) is escaped on every page, fragment and preview: a script or
  an attribute break is shown as text, never run.

Redirects, security headers and cookie flags: tests/security/test_redirects_and_headers.py.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.html import escape
from django.utils.http import urlsafe_base64_encode

from automations.models import Automation
from automations.services.automations import automation_activate
from connections.models import Connection, TwilioCredentials
from contacts.models import Contact, ContactImport, ImportIssue, Tag
from messaging.models import Message
from templates_sms.models import SmsTemplate
from tenants.actor import Actor
from tenants.models import ApiKey, Invitation, Organization, User
from tenants.outbound.models import WebhookDelivery, WebhookEndpoint
from tenants.services.members import invitation_create
from tests.connections.helpers import connect
from tests.e2e.test_accessibility import PAGES as NAVIGATION_PAGES
from tests.factories import PASSWORD, Personas
from tests.tenants.test_time_zone import NOT_PAGES, NOT_WALKED
from tests.tenants.two_factor_helpers import turn_on
from tests.urls_walk import TAG, routes, world_ids

pytestmark = pytest.mark.django_db


# --- The walk ------------------------------------------------------------------------------------

# The named fields whose values a form posts.
FIELDS = ("input", "button", "textarea", "select")


@dataclass
class Form:
    method: str
    action: str
    inputs: dict[str, str] = field(default_factory=dict)


class Parsed(HTMLParser):
    """A page's forms (with the values of their named inputs) and the fragments it loads."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.fragments: list[str] = []
        self._open: Form | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "data-fragment" in attributes:
            self.fragments.append(attributes["data-fragment"])
        if tag == "form":
            method = attributes.get("method", "get").lower()
            self._open = Form(method=method, action=attributes.get("action", ""))
            self.forms.append(self._open)
        elif self._open is not None and tag in FIELDS and "name" in attributes:
            self._open.inputs.setdefault(attributes["name"], attributes.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


@dataclass
class Page:
    text: str
    templates: set[str]

    @property
    def post_forms(self) -> list[Form]:
        return [form for form in Parsed(self.text).forms if form.method == "post"]


def shell_paths(ids: dict[str, str], *, post_only: bool = False) -> list[str]:
    """The path of every route of the app's shell whose ids ``ids`` has (with ``post_only``,
    also those a GET cannot walk)."""
    found = []
    for route in routes():
        if route.route.startswith(NOT_PAGES) or (route.name in NOT_WALKED and not post_only):
            continue
        if route.name and route.kwargs <= set(ids):  # else a token of a link sent by e-mail
            found.append(reverse(route.name, kwargs={key: ids[key] for key in route.kwargs}))
    return found


def walk(client: Client, paths: Iterable[str]) -> dict[str, Page]:
    """Every HTML answer to a GET of ``paths`` (redirects followed) and of the fragments those
    pages load, by the path that answered."""
    queue, pages = list(paths), {}
    while queue:
        path = queue.pop(0)
        if path in pages:
            continue
        response = client.get(path, follow=True)
        answered = response.request["PATH_INFO"]
        if response.request.get("QUERY_STRING"):
            answered += "?" + response.request["QUERY_STRING"]
        if (
            response.status_code != 200
            or response.streaming
            or not response["Content-Type"].startswith("text/html")
            or answered in pages
        ):
            continue  # a POST-only action, a download, or a page walked already
        text = response.content.decode()
        pages[answered] = Page(text, {t.name for t in response.templates if t.name})
        queue.extend(urljoin(answered, f) for f in Parsed(text).fragments)
    return pages


@dataclass
class World:
    ids: dict[str, str]
    invitation_token: str

    def signed_in_paths(self) -> list[str]:
        """The shell's routes, and the pages only a query opens: the dry run of a contact
        (with Enrol now) and Run now's confirmation."""
        automation, contact = self.ids["automation_id"], self.ids["contact_id"]
        return [
            *shell_paths(self.ids),
            f"/automations/{automation}/dry-run/?contact={contact}",
            f"/automations/{automation}/run/?who=all",
        ]

    def signed_out_paths(self, personas: Personas) -> list[str]:
        """The pages of signing up, in, a password reset's link and an invitation's."""
        user = personas.viewer
        reset = reverse(
            "password_reset_confirm",
            args=[
                urlsafe_base64_encode(force_bytes(user.pk)),
                default_token_generator.make_token(user),
            ],
        )
        return [
            "/login/",
            "/signup/",
            "/password-reset/",
            reset,
            f"/invitations/{self.invitation_token}/",
        ]


def make_world(personas: Personas, text: str = "") -> World:
    """One object of each kind a route names (tests.urls_walk), in an organization connected
    to Twilio, its automation active; with ``text``, every text field people, imports or
    remote systems fill holds it.

    The text is stored past the services' checks, as an old row, an import or a hand edit
    could hold it: a page must escape whatever the database holds.
    """
    org = personas.org
    connect(personas)
    ids = world_ids(org, personas.marketer)
    automation = Automation.objects.get(public_id=ids["automation_id"])
    automation_activate(automation=automation, by=personas.marketer)
    _invitation, link = invitation_create(
        organization=org,
        email="invited@example.com",
        role="viewer",
        by=Actor.for_membership(personas.membership("owner")),
    )
    world = World(ids=ids, invitation_token=link.rstrip("/").rsplit("/", 1)[1])
    if text:
        _stamp(personas, world, text)
    return world


def _stamp(personas: Personas, world: World, text: str) -> None:
    org, ids = personas.org, world.ids
    Organization.objects.filter(pk=org.pk).update(name=text, opt_out_footer=text, help_reply=text)
    User.objects.filter(memberships__organization=org).update(full_name=text)
    Connection.objects.filter(organization=org).update(last_error=text)
    TwilioCredentials.objects.filter(connection__organization=org).update(account_name=text)
    # A tag's name is a segment of its remove button's URL, and no name the services accept
    # holds a slash.
    Tag.objects.filter(organization=org, name=TAG).update(name=text.replace("/", ""))
    contact = Contact.objects.get(public_id=ids["contact_id"])
    Contact.objects.filter(pk=contact.pk).update(
        first_name=text, last_name=text, email=text, custom_fields={"plan": text, text: text}
    )
    Message.objects.filter(public_id=ids["message_id"]).update(
        contact=contact, body=text, error_message=text, status="failed"
    )
    SmsTemplate.objects.filter(organization=org).update(name=text, body=text)
    automation = Automation.objects.get(public_id=ids["automation_id"])
    assert automation.live_version is not None
    Automation.objects.filter(pk=automation.pk).update(
        name=text, draft=_rules_with(automation.draft, text)
    )
    type(automation.live_version).objects.filter(pk=automation.live_version.pk).update(
        definition=_rules_with(automation.live_version.definition, text)
    )
    imported = ContactImport.objects.get(public_id=ids["import_id"])
    ContactImport.objects.filter(pk=imported.pk).update(
        file_name=text, header=[text, "phone"], error=text
    )
    ImportIssue.objects.create(contact_import=imported, row=2, line=2, code="phone", reason=text)
    WebhookEndpoint.objects.filter(public_id=ids["endpoint_id"]).update(
        description=text, disabled_reason=text
    )
    WebhookDelivery.objects.filter(public_id=ids["delivery_id"]).update(
        state="failed", attempted_at=timezone.now(), status_code=500, response_body=text, error=text
    )
    Invitation.objects.filter(organization=org).update(email=text)
    ApiKey.objects.filter(organization=org).update(name=text)


def _rules_with(definition: dict[str, Any], text: str) -> dict[str, Any]:
    """The definition with ``text`` as a tag and a custom field in its rules, and a branch
    step on them."""
    stored = copy.deepcopy(definition)
    stored["entry_rules"].update(has_all_tags=[text], custom_fields={text: text})
    stored["exit_rules"]["on_tag_added"] = [text]
    stored["steps"].append(
        {
            "id": "b1",
            "type": "branch",
            "if": {"custom_field": {"key": text, "equals": text}},
            "then": "end",
            "else": "continue",
        }
    )
    return stored


# --- CSRF on every form --------------------------------------------------------------------------


def csrf_refusal(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The CSRF failure view under test: answers why, so a test sees which check refused."""
    return HttpResponseForbidden(reason)


def _templates_with_post_forms() -> set[str]:
    """Every template of ours holding a POST form, by the name Django loads it by."""
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]  # type: ignore[attr-defined]
    folders += [
        Path(app.path) / "templates"
        for app in apps.get_app_configs()
        if "site-packages" not in Path(app.path).parts  # ours, not Django's or DRF's
    ]
    return {
        str(path.relative_to(folder))
        for folder in folders
        for path in folder.rglob("*.html")
        if re.search(r'<form[^>]*method="post"', path.read_text(), re.IGNORECASE)
    }


def _rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to see that nothing changed."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in apps.get_models()
    }


def _refusing_client(user: User | None) -> Client:
    """A browser that enforces CSRF as a real one meets it: over HTTPS, sending the site's own
    Host and Origin and its CSRF cookie, so that the token alone is missing."""
    client = Client(
        enforce_csrf_checks=True,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_HOST="testserver",
        HTTP_ORIGIN="https://testserver",
    )
    if user is not None:
        client.force_login(user)
    assert client.get("/" if user else "/login/").status_code == 200
    assert settings.CSRF_COOKIE_NAME in client.cookies
    return client


@override_settings(CSRF_FAILURE_VIEW="tests.security.test_web_checks.csrf_refusal")
def test_every_post_form_carries_the_csrf_token_and_is_refused_without_it(personas):
    """A form without the token, or a view exempt from the check, would let another site
    post as the signed-in person (delete an organization, send to every contact). The posts
    carry the site's Origin and the CSRF cookie, so the only thing missing is the token."""
    world = make_world(personas)
    signed_in = walk(personas.client("owner"), world.signed_in_paths())
    signed_out = walk(Client(HTTP_X_FORWARDED_PROTO="https"), world.signed_out_paths(personas))
    # The sign-in's second step is shown only between a right password and a code.
    turn_on(personas.admin)
    halfway = Client(HTTP_X_FORWARDED_PROTO="https")
    halfway.post("/login/", {"username": personas.admin.email, "password": PASSWORD})
    signed_out.update(walk(halfway, ["/login/two-factor/"]))
    assert set(NAVIGATION_PAGES) <= set(signed_in)
    # Every template with a POST form was shown: a new one the walk cannot reach fails here.
    rendered = set().union(
        *(page.templates for page in [*signed_in.values(), *signed_out.values()])
    )
    assert _templates_with_post_forms() <= rendered

    actions: dict[tuple[bool, str], dict[str, str]] = {}
    for is_signed_in, pages in [(True, signed_in), (False, signed_out)]:
        for path, page in pages.items():
            for form in page.post_forms:
                assert form.inputs.get("csrfmiddlewaretoken"), (path, form.action)
                target = urljoin(path, form.action) if form.action else path
                data = {k: v for k, v in form.inputs.items() if k != "csrfmiddlewaretoken"}
                actions.setdefault((is_signed_in, target), data)
    assert len(actions) > 40  # the walk reached the forms, not just a few pages
    # And every route of the shell, for what scripts post (the template preview, say).
    for path in shell_paths(world.ids, post_only=True):
        actions.setdefault((True, path), {})

    browsers = {True: _refusing_client(personas.owner), False: _refusing_client(None)}
    before = _rows()
    for (is_signed_in, target), data in actions.items():
        response = browsers[is_signed_in].post(target, data)

        assert (response.status_code, response.content) == (403, b"CSRF token missing."), target
    assert _rows() == before


# --- Stored text escaped on every page -----------------------------------------------------------

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
# What must never reach a page unescaped, whatever is around it.
RAW = ["<script>alert", "<img src=x", "alert(1)>"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_stored_text_is_escaped_on_every_page(personas, payload):
    """Text from a contact form, a CSV import, an API client or a webhook receiver's answer is
    shown to every member: unescaped, it would run in their session (stored XSS)."""
    world = make_world(personas, payload)
    signed_in = walk(personas.client("owner"), world.signed_in_paths())
    invitation = walk(Client(HTTP_X_FORWARDED_PROTO="https"), world.signed_out_paths(personas))

    for path, page in [*signed_in.items(), *invitation.items()]:
        for raw in RAW:
            assert raw not in page.text, (path, raw)
    # The pages that show the text show it, escaped.
    ids = world.ids
    showing = [
        *NAVIGATION_PAGES,
        f"/contacts/{ids['contact_id']}/",
        f"/contacts/{ids['contact_id']}/edit/",
        f"/messages/{ids['message_id']}/",
        f"/templates/{ids['template_id']}/edit/",
        f"/automations/{ids['automation_id']}/",
        f"/automations/{ids['automation_id']}/edit/",
        f"/contacts/import/{ids['import_id']}/",
        f"/settings/webhooks/{ids['endpoint_id']}/",
        f"/invitations/{world.invitation_token}/",
    ]
    pages = {**signed_in, **invitation}
    missing = [path for path in showing if escape(payload) not in pages[path].text]
    assert missing == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_preview_escapes_a_contacts_stored_text(personas, payload):
    """The template editor puts the preview's HTML in the page as it is (innerHTML): the
    contact's values merged in, the organization's name and footer, all escaped there."""
    world = make_world(personas, payload)
    body = "Hi {{ first_name }} {{ last_name }}, {{ custom.plan }} from {{ organization.name }}"

    response = personas.client("marketer").post(
        "/templates/preview/",
        {"body": body, "contact": world.ids["contact_id"], "append_opt_out_footer": "on"},
    )

    assert response.status_code == 200
    text = response.content.decode()
    for raw in RAW:
        assert raw not in text, raw
    assert escape(payload) in text
