"""Creating and changing SMS templates."""

from __future__ import annotations

import socket

import pytest

from templates_sms import media
from templates_sms.models import SmsTemplate
from templates_sms.services import Saved, template_create, template_update
from tenants.errors import ApplicationError, ConflictError
from tests.templates_sms.helpers import SERVICE_BODY as BODY
from tests.templates_sms.helpers import create, names

pytestmark = pytest.mark.django_db


# --- Create -------------------------------------------------------------------------------


def test_it_creates_a_template_with_its_details_and_author(personas):
    saved = template_create(
        organization=personas.org,
        by=personas.marketer,
        name="  Spring   sale ",
        body="  Hi {{ first_name }}!\r\nSee you.  ",
        media_url=" https://cdn.example.com/spring.png ",
        append_opt_out_footer=False,
    )

    assert isinstance(saved, Saved)
    assert saved.warnings == []
    stored = SmsTemplate.objects.get(pk=saved.template.pk)
    assert stored.organization == personas.org
    assert stored.name == "Spring sale"
    assert stored.body == "Hi {{ first_name }}!\nSee you."
    assert stored.media_url == "https://cdn.example.com/spring.png"
    assert stored.append_opt_out_footer is False
    assert stored.created_by == personas.marketer
    assert stored.updated_by == personas.marketer


def test_it_appends_the_opt_out_footer_unless_told_otherwise(personas):
    template = create(personas)

    assert SmsTemplate.objects.get(pk=template.pk).append_opt_out_footer is True
    assert template.media_url == ""


def test_it_refuses_a_second_template_with_the_same_name_in_an_organization(personas):
    create(personas, name="Welcome")

    with pytest.raises(ConflictError) as caught:
        create(personas, name=" Welcome  ", body="Another body")

    assert caught.value.code == "duplicate_name"
    assert caught.value.status == 409
    assert "Welcome" in " ".join(caught.value.fields["name"])
    assert SmsTemplate.objects.filter(organization=personas.org).count() == 1


def test_it_allows_the_same_name_in_another_organization(personas):
    mine = create(personas, name="Welcome")

    theirs = create(personas, name="Welcome", organization=personas.other_org, body="Hello")

    assert theirs.pk != mine.pk
    assert names(personas.org) == ["Welcome"]
    assert names(personas.other_org) == ["Welcome"]
    assert SmsTemplate.objects.get(pk=mine.pk).body == BODY


@pytest.mark.parametrize("name", ["", "   ", None])
def test_it_requires_a_name(personas, name):
    with pytest.raises(ApplicationError) as caught:
        create(personas, name=name)

    assert set(caught.value.fields) == {"name"}
    assert SmsTemplate.objects.count() == 0


@pytest.mark.parametrize("body", ["", " \n\t ", None])
def test_it_requires_a_body(personas, body):
    with pytest.raises(ApplicationError) as caught:
        create(personas, body=body)

    assert set(caught.value.fields) == {"body"}
    assert SmsTemplate.objects.count() == 0


def test_it_reports_every_missing_detail_at_once(personas):
    with pytest.raises(ApplicationError) as caught:
        template_create(organization=personas.org, name="", body="")

    assert set(caught.value.fields) == {"name", "body"}


def test_it_refuses_a_name_over_120_characters(personas):
    with pytest.raises(ApplicationError) as caught:
        create(personas, name="n" * 121)

    assert set(caught.value.fields) == {"name"}
    assert create(personas, name="n" * 120).name == "n" * 120


def test_it_accepts_a_body_of_1600_characters(personas):
    template = create(personas, body="a" * 1600)

    assert len(SmsTemplate.objects.get(pk=template.pk).body) == 1600


def test_it_refuses_a_body_over_1600_characters(personas):
    with pytest.raises(ApplicationError) as caught:
        create(personas, body="a" * 1601)

    message = " ".join(caught.value.fields["body"])
    assert "1,600" in message
    assert "1,601" in message
    assert SmsTemplate.objects.count() == 0


def test_it_refuses_a_bad_merge_field_naming_it_and_saves_nothing(personas):
    with pytest.raises(ApplicationError) as caught:
        create(personas, body="Hi {{ nickname }}")

    assert "nickname" in " ".join(caught.value.fields["body"])
    assert SmsTemplate.objects.count() == 0


def test_it_refuses_a_template_tag_in_the_body(personas):
    with pytest.raises(ApplicationError) as caught:
        create(personas, body="{% load static %}Hi")

    assert "body" in caught.value.fields
    assert SmsTemplate.objects.count() == 0


def test_it_returns_a_media_warning_and_saves_the_template(personas, monkeypatch):
    def unresolvable(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(media, "resolve_host", unresolvable)

    saved = template_create(
        organization=personas.org,
        name="With media",
        body=BODY,
        media_url="https://not-yet-live.example.com/a.png",
    )

    assert len(saved.warnings) == 1
    assert "not-yet-live.example.com" in saved.warnings[0]
    stored = SmsTemplate.objects.get(pk=saved.template.pk)
    assert stored.media_url == "https://not-yet-live.example.com/a.png"


def test_it_refuses_a_private_media_url_and_saves_nothing(personas, monkeypatch):
    monkeypatch.setattr(media, "resolve_host", lambda host: ["10.0.0.8"])

    with pytest.raises(ApplicationError) as caught:
        create(personas, media_url="https://intranet.example.com/a.png")

    assert "intranet.example.com" in " ".join(caught.value.fields["media_url"])
    assert SmsTemplate.objects.count() == 0


def test_it_refuses_a_plain_http_media_url(personas):
    with pytest.raises(ApplicationError) as caught:
        create(personas, media_url="http://cdn.example.com/a.png")

    assert set(caught.value.fields) == {"media_url"}
    assert SmsTemplate.objects.count() == 0


# --- Update -------------------------------------------------------------------------------


def test_it_updates_the_given_fields_only(personas):
    template = create(personas, media_url="https://cdn.example.com/a.png")

    saved = template_update(template=template, by=personas.admin, body="New {{ last_name }}")

    stored = SmsTemplate.objects.get(pk=template.pk)
    assert saved.warnings == []
    assert stored.body == "New {{ last_name }}"
    assert stored.name == "Welcome"
    assert stored.media_url == "https://cdn.example.com/a.png"
    assert stored.append_opt_out_footer is True
    assert stored.updated_by == personas.admin
    assert stored.created_by == personas.marketer


def test_it_updates_a_template_keeping_its_own_name(personas):
    template = create(personas, name="Welcome")

    template_update(template=template, name="Welcome", append_opt_out_footer=False)

    stored = SmsTemplate.objects.get(pk=template.pk)
    assert stored.name == "Welcome"
    assert stored.append_opt_out_footer is False


def test_it_refuses_to_rename_a_template_to_a_name_taken_in_its_organization(personas):
    create(personas, name="Welcome")
    other = create(personas, name="Reminder")

    with pytest.raises(ConflictError) as caught:
        template_update(template=other, name="Welcome")

    assert caught.value.code == "duplicate_name"
    assert caught.value.status == 409
    assert names(personas.org) == ["Reminder", "Welcome"]


def test_it_renames_to_a_name_used_only_in_another_organization(personas):
    create(personas, name="Welcome", organization=personas.other_org)
    template = create(personas, name="Reminder")

    template_update(template=template, name="Welcome")

    assert names(personas.org) == ["Welcome"]
    assert names(personas.other_org) == ["Welcome"]


def test_it_refuses_an_update_with_a_bad_merge_field_and_changes_nothing(personas):
    template = create(personas, name="Welcome")

    with pytest.raises(ApplicationError) as caught:
        template_update(template=template, name="Renamed", body="Hi {{ contact.__class__ }}")

    assert "contact.__class__" in " ".join(caught.value.fields["body"])
    stored = SmsTemplate.objects.get(pk=template.pk)
    assert stored.name == "Welcome"
    assert stored.body == BODY


def test_it_refuses_an_update_to_an_empty_or_too_long_body(personas):
    template = create(personas)

    with pytest.raises(ApplicationError) as empty:
        template_update(template=template, body="  ")
    with pytest.raises(ApplicationError) as long:
        template_update(template=template, body="a" * 1601)

    assert "body" in empty.value.fields
    assert "body" in long.value.fields
    assert SmsTemplate.objects.get(pk=template.pk).body == BODY


def test_it_returns_a_media_warning_on_update(personas, monkeypatch):
    template = create(personas)

    def unresolvable(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(media, "resolve_host", unresolvable)

    saved = template_update(template=template, media_url="https://later.example.com/a.png")

    assert len(saved.warnings) == 1
    assert "later.example.com" in saved.warnings[0]
    assert SmsTemplate.objects.get(pk=template.pk).media_url == "https://later.example.com/a.png"


def test_it_removes_the_media_url_when_updated_to_empty(personas):
    template = create(personas, media_url="https://cdn.example.com/a.png")

    template_update(template=template, media_url="")

    assert SmsTemplate.objects.get(pk=template.pk).media_url == ""
