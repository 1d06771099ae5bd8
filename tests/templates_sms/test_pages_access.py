"""Who may reach the SMS template pages: viewers, anonymous visitors, other organizations."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from contacts.models import Contact
from templates_sms.models import SmsTemplate
from tests.templates_sms.helpers import (
    LIST,
    NEW,
    PREVIEW,
    delete_path,
    duplicate_path,
    edit_path,
    form,
)
from tests.templates_sms.helpers import PAGE_BODY as BODY
from tests.templates_sms.helpers import page_add as add
from tests.templates_sms.helpers import page_snapshot as snapshot

pytestmark = pytest.mark.django_db


# Access


def routes(
    template: SmsTemplate, contact: Contact | None = None
) -> dict[str, tuple[str, str, Any]]:
    preview = {"body": BODY, "append_opt_out_footer": "on"}
    if contact is not None:
        preview["contact"] = str(contact.public_id)
    return {
        "new-get": ("get", NEW, None),
        "new-post": ("post", NEW, form(name="Sneaky")),
        "edit-get": ("get", edit_path(template), None),
        "edit-post": ("post", edit_path(template), form(name="Renamed", body="Changed")),
        "duplicate": ("post", duplicate_path(template), {}),
        "delete-get": ("get", delete_path(template), None),
        "delete-post": ("post", delete_path(template), {}),
        "preview": ("post", PREVIEW, preview),
    }


ROUTES = list(routes(SmsTemplate(public_id=uuid.UUID("5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"))))
OBJECT_ROUTES = ["edit-get", "edit-post", "duplicate", "delete-get", "delete-post"]


@pytest.mark.parametrize("route", ROUTES)
def test_it_refuses_the_editor_and_writes_to_a_viewer(personas, route):
    template = add(personas.org)
    method, path, data = routes(template)[route]
    before = snapshot()

    response = getattr(personas.client("viewer"), method)(path, data)

    assert response.status_code == 403
    assert "Alex" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("route", [*ROUTES, "list"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, personas, route):
    template = add(personas.org)
    method, path, data = {**routes(template), "list": ("get", LIST, None)}[route]
    before = snapshot()

    response = getattr(client, method)(path, data)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_it_answers_404_for_another_organizations_template(personas, route):
    theirs = add(personas.other_org, "Beta only", "Secret B text")
    method, path, data = routes(theirs)[route]
    before = snapshot()

    response = getattr(personas.client("owner"), method)(path, data)

    assert response.status_code == 404
    assert "Secret B text" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_it_answers_404_to_an_outsider_for_this_organizations_template(personas, route):
    ours = add(personas.org, "Acme only", "Secret A text")
    method, path, data = routes(ours)[route]
    before = snapshot()

    response = getattr(personas.client("outsider"), method)(path, data)

    assert response.status_code == 404
    assert "Secret A text" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"])
def test_it_answers_404_for_malformed_or_unknown_ids(personas, route, bad_id):
    template = add(personas.org)
    method, real_path, data = routes(template)[route]
    path = real_path.replace(str(template.public_id), bad_id)
    assert path != real_path
    before = snapshot()

    response = getattr(personas.client("owner"), method)(path, data)

    assert response.status_code == 404
    assert snapshot() == before
