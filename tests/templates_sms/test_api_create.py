"""``/api/v1/templates/``: create, with its validation and media URL checks."""

from __future__ import annotations

import pytest

from templates_sms import media
from templates_sms.models import SmsTemplate
from tests.templates_sms.helpers import FIELDS, PUBLIC_IMAGE, TEMPLATES, WRITERS, error
from tests.templates_sms.helpers import api_add as add

pytestmark = pytest.mark.django_db


# Create


@pytest.mark.parametrize("persona", WRITERS)
def test_it_creates_a_template(personas, persona):
    response = personas.api(persona).post(
        TEMPLATES,
        {
            "name": "Spring promo",
            "body": "Hello {{ first_name }}",
            "media_url": PUBLIC_IMAGE,
            "append_opt_out_footer": False,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {*FIELDS, "warnings"}
    assert body["warnings"] == []
    template = SmsTemplate.objects.get()
    assert body["id"] == str(template.public_id)
    assert body["name"] == "Spring promo"
    assert body["body"] == "Hello {{ first_name }}"
    assert body["media_url"] == PUBLIC_IMAGE
    assert body["append_opt_out_footer"] is False
    assert body["created_at"]
    assert body["updated_at"]
    assert template.organization == personas.org
    assert (template.name, template.body, template.media_url) == (
        "Spring promo",
        "Hello {{ first_name }}",
        PUBLIC_IMAGE,
    )
    assert template.append_opt_out_footer is False


def test_it_creates_with_the_footer_and_no_media_by_default(personas):
    response = personas.api("marketer").post(
        TEMPLATES, {"name": "Plain", "body": "Hello"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["append_opt_out_footer"] is True
    assert response.json()["media_url"] == ""
    template = SmsTemplate.objects.get()
    assert template.append_opt_out_footer is True
    assert template.media_url == ""


def test_it_refuses_a_duplicate_name_with_409(personas):
    add(personas.org, "Welcome", "First")

    response = personas.api("marketer").post(
        TEMPLATES, {"name": "Welcome", "body": "Second"}, format="json"
    )

    assert response.status_code == 409
    assert error(response)["code"] == "duplicate_name"
    assert "Welcome" in error(response)["fields"]["name"][0]
    assert list(SmsTemplate.objects.values_list("body", flat=True)) == ["First"]


def test_it_allows_a_name_used_by_another_organization(personas):
    add(personas.other_org, "Welcome", "B")

    response = personas.api("marketer").post(
        TEMPLATES, {"name": "Welcome", "body": "A"}, format="json"
    )

    assert response.status_code == 201
    assert SmsTemplate.objects.filter(name="Welcome").count() == 2


def test_it_refuses_an_unknown_merge_field(personas):
    response = personas.api("marketer").post(
        TEMPLATES, {"name": "Bad", "body": "Hi {{ nickname }}"}, format="json"
    )

    assert response.status_code == 400
    fields = error(response)["fields"]
    assert "nickname" in fields["body"][0]
    assert SmsTemplate.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "No body"}, "body"),
        ({"body": "No name"}, "name"),
        ({"name": "Blank", "body": "   "}, "body"),
        ({"name": "Long", "body": "a" * 1601}, "body"),
        ({"name": "n" * 121, "body": "Hello"}, "name"),
        ({"name": "Private", "body": "Hi", "media_url": "https://10.0.0.5/x.jpg"}, "media_url"),
        ({"name": "Plain http", "body": "Hi", "media_url": "http://93.184.215.14/x"}, "media_url"),
    ],
)
def test_it_refuses_invalid_input(personas, data, field):
    response = personas.api("marketer").post(TEMPLATES, data, format="json")

    assert response.status_code == 400
    assert error(response)["code"] in {"validation_error", "invalid"}
    assert field in error(response)["fields"]
    assert SmsTemplate.objects.count() == 0


def test_it_accepts_a_body_of_exactly_1600_characters(personas):
    response = personas.api("marketer").post(
        TEMPLATES, {"name": "Long", "body": "a" * 1600}, format="json"
    )

    assert response.status_code == 201
    assert len(SmsTemplate.objects.get().body) == 1600


def test_it_warns_about_a_media_host_that_does_not_resolve(personas, monkeypatch):
    def unresolvable(host: str) -> list[str]:
        raise OSError("no such host")

    monkeypatch.setattr(media, "resolve_host", unresolvable)

    response = personas.api("marketer").post(
        TEMPLATES,
        {"name": "MMS", "body": "Look", "media_url": "https://cdn.example.com/cat.jpg"},
        format="json",
    )

    assert response.status_code == 201
    assert len(response.json()["warnings"]) == 1
    assert "cdn.example.com" in response.json()["warnings"][0]
    assert SmsTemplate.objects.get().media_url == "https://cdn.example.com/cat.jpg"


def test_it_refuses_a_media_host_that_resolves_to_a_private_address(personas, monkeypatch):
    monkeypatch.setattr(media, "resolve_host", lambda host: ["192.168.1.10"])

    response = personas.api("marketer").post(
        TEMPLATES,
        {"name": "MMS", "body": "Look", "media_url": "https://intranet.example.com/cat.jpg"},
        format="json",
    )

    assert response.status_code == 400
    assert "media_url" in error(response)["fields"]
    assert SmsTemplate.objects.count() == 0
