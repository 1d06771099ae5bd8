"""The SMS template editor: create, edit and ``next``."""

from __future__ import annotations

import re

import pytest

from templates_sms.models import SmsTemplate
from tests.factories import page_text
from tests.templates_sms.helpers import LIST, NEW, WRITERS, edit_path, follow, form, visible
from tests.templates_sms.helpers import page_add as add
from tests.templates_sms.helpers import page_snapshot as snapshot

pytestmark = pytest.mark.django_db


# Create


@pytest.mark.parametrize("persona", WRITERS)
def test_it_creates_a_template(personas, persona):
    client = personas.client(persona)
    editor = client.get(NEW)
    assert editor.status_code == 200
    assert "New SMS template" in visible(editor)

    response = client.post(
        NEW,
        form(
            name="  Spring   promo ",
            body='Hello {{ first_name|default:"there" }}!',
            media_url="https://93.184.215.14/cat.jpg",
            append_opt_out_footer="",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == LIST
    template = SmsTemplate.objects.get()
    assert template.organization == personas.org
    assert template.name == "Spring promo"
    assert template.body == 'Hello {{ first_name|default:"there" }}!'
    assert template.media_url == "https://93.184.215.14/cat.jpg"
    assert template.append_opt_out_footer is False
    assert template.created_by == personas.user(persona)
    assert template.updated_by == personas.user(persona)
    assert "Template “Spring promo” created." in follow(client, response)


def test_it_keeps_the_footer_when_the_box_is_ticked(personas):
    response = personas.client("marketer").post(NEW, form())

    assert response.status_code == 302
    assert SmsTemplate.objects.get().append_opt_out_footer is True


def test_it_refuses_a_duplicate_name(personas):
    add(personas.org, "Welcome", "First one")

    response = personas.client("marketer").post(NEW, form(name="Welcome", body="Second one"))

    assert response.status_code == 400
    assert "A template named “Welcome” already exists." in visible(response)
    assert SmsTemplate.objects.count() == 1
    assert SmsTemplate.objects.get().body == "First one"


def test_it_allows_the_same_name_as_another_organizations_template(personas):
    add(personas.other_org, "Welcome", "B's welcome")

    response = personas.client("marketer").post(NEW, form(name="Welcome"))

    assert response.status_code == 302
    assert SmsTemplate.objects.filter(organization=personas.org, name="Welcome").count() == 1


def test_it_names_an_unknown_merge_field(personas):
    response = personas.client("marketer").post(NEW, form(body="Hi {{ nickname }}!"))

    assert response.status_code == 400
    assert "Unknown field “nickname”" in visible(response)
    assert SmsTemplate.objects.count() == 0


def test_it_refuses_a_body_over_1600_characters(personas):
    response = personas.client("marketer").post(NEW, form(body="a" * 1601))

    assert response.status_code == 400
    assert "1600" in visible(response)
    assert SmsTemplate.objects.count() == 0


def test_it_accepts_a_body_of_exactly_1600_characters(personas):
    response = personas.client("marketer").post(NEW, form(body="a" * 1600))

    assert response.status_code == 302
    assert len(SmsTemplate.objects.get().body) == 1600


def test_it_refuses_a_missing_name_and_body(personas):
    response = personas.client("marketer").post(NEW, form(name="", body=""))

    assert response.status_code == 400
    assert "This field is required." in visible(response)
    assert SmsTemplate.objects.count() == 0


def test_it_refuses_a_private_media_url(personas):
    response = personas.client("marketer").post(NEW, form(media_url="https://10.0.0.5/cat.jpg"))

    assert response.status_code == 400
    assert "private, loopback or link-local" in visible(response)
    assert SmsTemplate.objects.count() == 0


# The `next` parameter


def test_it_returns_to_next_with_the_new_template(personas):
    client = personas.client("marketer")

    editor = client.get(f"{NEW}?next=/contacts/?a=1")
    assert editor.status_code == 200
    assert 'name="next" value="/contacts/?a=1"' in editor.content.decode()

    response = client.post(NEW, {**form(), "next": "/contacts/?a=1"})

    template = SmsTemplate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/?a=1&template={template.public_id}"


def test_it_returns_to_a_next_without_a_query(personas):
    response = personas.client("marketer").post(NEW, {**form(), "next": "/automations/"})

    template = SmsTemplate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/automations/?template={template.public_id}"


def test_it_keeps_next_in_the_editor_after_an_error(personas):
    response = personas.client("marketer").post(
        NEW, {**form(body="Hi {{ nope }}"), "next": "/contacts/?a=1"}
    )

    assert response.status_code == 400
    assert 'name="next" value="/contacts/?a=1"' in response.content.decode()
    assert SmsTemplate.objects.count() == 0


@pytest.mark.parametrize(
    "target", ["https://evil.example.com/", "//evil.example.com", "/\\evil.example.com"]
)
def test_it_ignores_an_external_next(personas, target):
    client = personas.client("marketer")

    editor = client.get(NEW, {"next": target})
    assert editor.status_code == 200
    assert "evil.example.com" not in editor.content.decode()

    response = client.post(NEW, {**form(), "next": target})

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert SmsTemplate.objects.count() == 1


# Edit


def test_it_shows_the_template_in_the_editor(personas):
    template = add(personas.org, "Welcome", "Hello {{ first_name }}", append_opt_out_footer=False)

    response = personas.client("marketer").get(edit_path(template))

    assert response.status_code == 200
    content = page_text(response)
    assert "Edit template" in content
    assert 'value="Welcome"' in content
    assert re.search(r"<textarea[^>]*>\s*Hello \{\{ first_name \}\}</textarea>", content)
    assert re.search(
        r'<input type="checkbox" name="append_opt_out_footer"(?![^>]*checked)', content
    )


@pytest.mark.parametrize("persona", WRITERS)
def test_it_saves_an_edited_template(personas, persona):
    template = add(personas.org, "Welcome", "Old text")
    client = personas.client(persona)

    response = client.post(
        edit_path(template), form(name="Welcome back", body="New {{ last_name }}")
    )

    assert response.status_code == 302
    assert response["Location"] == LIST
    template.refresh_from_db()
    assert template.name == "Welcome back"
    assert template.body == "New {{ last_name }}"
    assert template.append_opt_out_footer is True
    assert template.updated_by == personas.user(persona)
    assert "Template “Welcome back” saved." in follow(client, response)


def test_it_returns_to_next_after_an_edit(personas):
    template = add(personas.org)
    client = personas.client("marketer")

    editor = client.get(f"{edit_path(template)}?next=/contacts/?a=1")
    assert 'name="next" value="/contacts/?a=1"' in editor.content.decode()

    response = client.post(edit_path(template), {**form(body="Edited"), "next": "/contacts/?a=1"})

    assert response.status_code == 302
    assert response["Location"] == f"/contacts/?a=1&template={template.public_id}"
    template.refresh_from_db()
    assert template.body == "Edited"


def test_it_ignores_an_external_next_after_an_edit(personas):
    template = add(personas.org)

    response = personas.client("marketer").post(
        edit_path(template), {**form(body="Edited"), "next": "https://evil.example.com/"}
    )

    assert response.status_code == 302
    assert response["Location"] == LIST


def test_it_refuses_to_rename_onto_another_template(personas):
    add(personas.org, "Taken", "Other")
    template = add(personas.org, "Mine", "Mine text")
    before = snapshot()

    response = personas.client("marketer").post(
        edit_path(template), form(name="Taken", body="Changed")
    )

    assert response.status_code == 400
    assert "A template named “Taken” already exists." in visible(response)
    assert snapshot() == before


def test_it_refuses_an_unknown_merge_field_on_edit(personas):
    template = add(personas.org)
    before = snapshot()

    response = personas.client("marketer").post(edit_path(template), form(body="{{ shoe_size }}"))

    assert response.status_code == 400
    assert "Unknown field “shoe_size”" in visible(response)
    assert snapshot() == before


def test_it_keeps_the_name_when_saving_a_template_under_its_own_name(personas):
    template = add(personas.org, "Welcome", "Old")

    response = personas.client("marketer").post(edit_path(template), form(body="New"))

    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.body) == ("Welcome", "New")
