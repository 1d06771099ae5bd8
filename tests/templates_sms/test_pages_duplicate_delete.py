"""Duplicating and deleting SMS templates from the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model, ProtectedError

from contacts.models import Tag
from templates_sms.models import SmsTemplate
from tests.templates_sms.helpers import (
    LIST,
    WRITERS,
    delete_path,
    duplicate_path,
    edit_path,
    follow,
    visible,
)
from tests.templates_sms.helpers import page_add as add
from tests.templates_sms.helpers import page_snapshot as snapshot

pytestmark = pytest.mark.django_db


def names() -> list[str]:
    return list(SmsTemplate.objects.order_by("name").values_list("name", flat=True))


# Duplicate


@pytest.mark.parametrize("persona", WRITERS)
def test_it_duplicates_a_template_and_opens_the_copy(personas, persona):
    template = add(
        personas.org,
        "Welcome",
        "Hello {{ first_name }}",
        media_url="https://93.184.215.14/cat.jpg",
        append_opt_out_footer=False,
    )
    client = personas.client(persona)

    response = client.post(duplicate_path(template))

    copy = SmsTemplate.objects.get(name="Copy of Welcome")
    assert response.status_code == 302
    assert response["Location"] == edit_path(copy)
    assert copy.organization == personas.org
    assert copy.body == "Hello {{ first_name }}"
    assert copy.media_url == "https://93.184.215.14/cat.jpg"
    assert copy.append_opt_out_footer is False
    assert copy.created_by == personas.user(persona)
    assert copy.pk != template.pk
    assert "Created “Copy of Welcome”." in follow(client, response)


def test_it_numbers_a_second_copy(personas):
    template = add(personas.org)
    client = personas.client("marketer")

    client.post(duplicate_path(template))
    response = client.post(duplicate_path(template))

    assert response.status_code == 302
    assert names() == ["Copy of Welcome", "Copy of Welcome (2)", "Welcome"]


# Delete


def test_it_asks_before_deleting(personas):
    template = add(personas.org)

    response = personas.client("marketer").get(delete_path(template))

    assert response.status_code == 200
    text = visible(response)
    assert "Delete “Welcome”?" in text
    assert "Delete template" in text
    assert f'action="{delete_path(template)}"' in response.content.decode()
    assert SmsTemplate.objects.filter(pk=template.pk).exists()


@pytest.mark.parametrize("persona", WRITERS)
def test_it_deletes_a_template(personas, persona):
    template = add(personas.org)
    kept = add(personas.org, "Kept", "Stays")
    client = personas.client(persona)

    response = client.post(delete_path(template))

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert list(SmsTemplate.objects.values_list("pk", flat=True)) == [kept.pk]
    assert "“Welcome” was deleted." in follow(client, response)


def test_it_keeps_a_template_that_something_uses(personas, monkeypatch):
    template = add(personas.org)

    def protected(self: SmsTemplate, *args: Any, **kwargs: Any) -> Any:
        user: set[Model] = {Tag(pk=999_999, name="Automation Spring drip")}  # what uses it
        raise ProtectedError("in use", user)

    monkeypatch.setattr(SmsTemplate, "delete", protected)
    before = snapshot()
    client = personas.client("marketer")

    response = client.post(delete_path(template))

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert snapshot() == before
    text = follow(client, response)
    assert (
        "“Welcome” is used by Automation Spring drip. A published automation version never "
        "changes, so a template it sends cannot be deleted, even once the automation is archived."
    ) in text
    assert "was deleted" not in text
