"""``/api/v1/templates/<id>/``: read, update (PATCH and PUT) and delete."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model, ProtectedError

from contacts.models import Tag
from templates_sms.models import SmsTemplate
from tests.templates_sms.helpers import API_BODY as BODY
from tests.templates_sms.helpers import FIELDS, PUBLIC_IMAGE, WRITERS, error, url
from tests.templates_sms.helpers import api_add as add
from tests.templates_sms.helpers import api_snapshot as snapshot

pytestmark = pytest.mark.django_db


# Read, update, delete


def test_it_reads_a_template(personas):
    template = add(personas.org, "Welcome", BODY, media_url=PUBLIC_IMAGE)

    response = personas.api("viewer").get(url(template))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS
    assert body["id"] == str(template.public_id)
    assert body["name"] == "Welcome"
    assert body["body"] == BODY
    assert body["media_url"] == PUBLIC_IMAGE
    assert body["append_opt_out_footer"] is True


@pytest.mark.parametrize("persona", WRITERS)
def test_it_patches_only_the_given_fields(personas, persona):
    template = add(personas.org, "Welcome", BODY, media_url=PUBLIC_IMAGE)

    response = personas.api(persona).patch(url(template), {"name": "Welcome back"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Welcome back"
    assert response.json()["body"] == BODY
    assert response.json()["warnings"] == []
    template.refresh_from_db()
    assert template.name == "Welcome back"
    assert template.body == BODY
    assert template.media_url == PUBLIC_IMAGE
    assert template.append_opt_out_footer is True


def test_it_patches_the_footer_flag(personas):
    template = add(personas.org)

    response = personas.api("marketer").patch(
        url(template), {"append_opt_out_footer": False}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["append_opt_out_footer"] is False
    template.refresh_from_db()
    assert template.append_opt_out_footer is False
    assert template.name == "Welcome"


def test_it_refuses_a_patch_onto_another_templates_name(personas):
    add(personas.org, "Taken", "Other")
    template = add(personas.org, "Mine", "Mine")
    before = snapshot()

    response = personas.api("marketer").patch(url(template), {"name": "Taken"}, format="json")

    assert response.status_code == 409
    assert error(response)["code"] == "duplicate_name"
    assert snapshot() == before


def test_it_refuses_a_patch_with_an_unknown_merge_field(personas):
    template = add(personas.org)
    before = snapshot()

    response = personas.api("marketer").patch(
        url(template), {"body": "Hi {{ shoe_size }}"}, format="json"
    )

    assert response.status_code == 400
    assert "shoe_size" in error(response)["fields"]["body"][0]
    assert snapshot() == before


@pytest.mark.parametrize("persona", WRITERS)
def test_it_replaces_a_template_with_put(personas, persona):
    template = add(
        personas.org, "Welcome", BODY, media_url=PUBLIC_IMAGE, append_opt_out_footer=False
    )

    response = personas.api(persona).put(
        url(template), {"name": "Replaced", "body": "New {{ last_name }}"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Replaced"
    assert body["body"] == "New {{ last_name }}"
    assert body["media_url"] == ""
    assert body["append_opt_out_footer"] is True
    template.refresh_from_db()
    assert (template.name, template.body, template.media_url) == (
        "Replaced",
        "New {{ last_name }}",
        "",
    )
    assert template.append_opt_out_footer is True


def test_it_refuses_a_put_without_a_body(personas):
    template = add(personas.org)
    before = snapshot()

    response = personas.api("marketer").put(url(template), {"name": "Only a name"}, format="json")

    assert response.status_code == 400
    assert "body" in error(response)["fields"]
    assert snapshot() == before


@pytest.mark.parametrize("persona", WRITERS)
def test_it_deletes_a_template(personas, persona):
    template = add(personas.org)
    kept = add(personas.org, "Kept", "Stays")

    response = personas.api(persona).delete(url(template))

    assert response.status_code == 204
    assert list(SmsTemplate.objects.values_list("pk", flat=True)) == [kept.pk]
    assert personas.api(persona).get(url(template)).status_code == 404


def test_it_keeps_a_template_that_something_uses(personas, monkeypatch):
    template = add(personas.org)

    def protected(self: SmsTemplate, *args: Any, **kwargs: Any) -> Any:
        user: set[Model] = {Tag(pk=999_999, name="Automation Spring drip")}  # what uses it
        raise ProtectedError("in use", user)

    monkeypatch.setattr(SmsTemplate, "delete", protected)
    before = snapshot()

    response = personas.api("marketer").delete(url(template))

    assert response.status_code == 409
    assert error(response)["code"] == "template_in_use"
    assert "Spring drip" in error(response)["message"]
    assert snapshot() == before
