"""The SMS template pages: the list, the editor (create, edit, ``next``), duplicate, delete and
the preview fragment, for each role and against other organizations."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from django.db.models import Model, ProtectedError

from contacts.models import Contact, Tag
from contacts.services.contacts import contact_create
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create
from tenants.models import Organization
from tests.factories import page_text

pytestmark = pytest.mark.django_db

LIST = "/templates/"
NEW = "/templates/new/"
PREVIEW = "/templates/preview/"
WRITERS = ["owner", "admin", "marketer"]
BODY = "Hi {{ first_name }}, your order is ready."
HTML_BODY = "<b>bold</b><script>alert(1)</script>"
FOOTER = "Reply STOP to opt out"
SMART_QUOTES = "We\u2019re \u201copen\u201d today"  # curly quotes force UCS-2


def add(
    organization: Organization, name: str = "Welcome", body: str = BODY, **data: Any
) -> SmsTemplate:
    return template_create(organization=organization, name=name, body=body, **data).template


def add_contact(organization: Organization, phone: str = "+14155550100", **data: Any) -> Contact:
    return contact_create(organization=organization, source="test", phone=phone, **data)


def edit_path(template: SmsTemplate | str) -> str:
    key = template.public_id if isinstance(template, SmsTemplate) else template
    return f"/templates/{key}/edit/"


def duplicate_path(template: SmsTemplate | str) -> str:
    key = template.public_id if isinstance(template, SmsTemplate) else template
    return f"/templates/{key}/duplicate/"


def delete_path(template: SmsTemplate | str) -> str:
    key = template.public_id if isinstance(template, SmsTemplate) else template
    return f"/templates/{key}/delete/"


def form(**changes: str) -> dict[str, str]:
    data = {
        "name": "Welcome",
        "body": BODY,
        "media_url": "",
        "append_opt_out_footer": "on",
    }
    data.update(changes)
    return data


def visible(response: Any) -> str:
    """The page's text without its markup, to read sentences split by inline tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page_text(response)))


def follow(client: Any, response: Any) -> str:
    """The text of the page a redirect leads to (with its flash messages)."""
    assert response.status_code == 302, response.content
    return visible(client.get(response["Location"]))


def snapshot() -> list[tuple[Any, ...]]:
    """Every template of every organization, as stored."""
    return list(
        SmsTemplate.objects.order_by("pk").values_list(
            "pk",
            "public_id",
            "organization_id",
            "name",
            "body",
            "media_url",
            "append_opt_out_footer",
            "updated_by_id",
            "updated_at",
        )
    )


def rows(response: Any) -> list[str]:
    """The visible text of each row of the list's table body."""
    body = re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.DOTALL)
    assert body is not None, "the list has no table"
    found = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL)
    return [
        re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", row))).strip() for row in found
    ]


def names() -> list[str]:
    return list(SmsTemplate.objects.order_by("name").values_list("name", flat=True))


# The list


def test_it_lists_templates_with_name_excerpt_and_segments(personas):
    add(personas.org, "Welcome", "Hi {{ first_name }}, welcome aboard!")
    long_body = "Sale " + "x" * 145
    add(personas.org, "Long sale", long_body)
    add(personas.org, "Quotes", SMART_QUOTES, append_opt_out_footer=False)

    response = personas.client("viewer").get(LIST)

    assert response.status_code == 200
    listed = rows(response)
    assert len(listed) == 3
    long_row, quotes_row, welcome_row = listed  # ordered by name
    assert "Welcome" in welcome_row
    assert "Hi {{ first_name }}, welcome aboard!" in welcome_row
    assert "1 · GSM-7" in welcome_row
    assert "Long sale" in long_row
    assert long_body not in long_row  # an excerpt, not the whole body
    assert long_body[:79] + "…" in long_row
    assert "2 · GSM-7" in long_row  # 150 characters + the footer
    assert "Quotes" in quotes_row
    assert "1 · UCS-2" in quotes_row
    assert "No templates yet" not in visible(response)


def test_it_shows_the_empty_state_without_other_organizations_templates(personas):
    add(personas.other_org, "Beta secret", "Only for B")

    response = personas.client("marketer").get(LIST)

    assert response.status_code == 200
    text = visible(response)
    assert "No templates yet" in text
    assert "Beta secret" not in text
    assert "Only for B" not in text


def test_it_lists_only_the_current_organizations_templates(personas):
    add(personas.org, "Acme hello", "Hello from A")
    add(personas.other_org, "Beta hello", "Hello from B")

    text = visible(personas.client("owner").get(LIST))

    assert "Acme hello" in text
    assert "Beta hello" not in text
    assert "Hello from B" not in text


def test_it_lets_a_viewer_read_the_list_without_editing_links(personas):
    template = add(personas.org)

    response = personas.client("viewer").get(LIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Welcome" in visible(response)
    assert NEW not in content
    assert edit_path(template) not in content
    assert delete_path(template) not in content
    assert duplicate_path(template) not in content


@pytest.mark.parametrize("persona", WRITERS)
def test_it_offers_the_editing_links_to_writers(personas, persona):
    template = add(personas.org)

    response = personas.client(persona).get(LIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert f'href="{NEW}"' in content
    assert edit_path(template) in content
    assert delete_path(template) in content
    assert duplicate_path(template) in content


def test_it_pages_the_list_by_50(personas):
    for n in range(51):
        add(personas.org, f"T{n:02d}", f"Body {n}")
    client = personas.client("viewer")

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assert len(rows(first)) == 50
    assert "Page 1 of 2" in visible(first)
    assert [row.split()[0] for row in rows(second)] == ["T50"]
    assert "Page 2 of 2" in visible(second)


def test_it_counts_segments_on_the_list_with_the_longest_custom_value(personas):
    add_contact(personas.org, custom_fields={"plan": "p" * 120})
    add(personas.org, "Plan", "Your plan: {{ custom.plan }}", append_opt_out_footer=False)

    response = personas.client("viewer").get(LIST)

    assert response.status_code == 200
    (row,) = rows(response)
    assert "1 · GSM-7" in row  # the sample contact has no plan


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


ROUTES = list(routes(SmsTemplate(public_id=uuid.uuid4())))
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
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", str(uuid.uuid4())])
def test_it_answers_404_for_malformed_or_unknown_ids(personas, route, bad_id):
    template = add(personas.org)
    method, real_path, data = routes(template)[route]
    path = real_path.replace(str(template.public_id), bad_id)
    assert path != real_path
    before = snapshot()

    response = getattr(personas.client("owner"), method)(path, data)

    assert response.status_code == 404
    assert snapshot() == before


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
    assert "“Welcome” is used by Automation Spring drip. Change those first." in text
    assert "was deleted" not in text


# The preview fragment


def preview(client: Any, body: str, footer: bool = True, contact: str = "") -> Any:
    data = {"body": body, "contact": contact}
    if footer:
        data["append_opt_out_footer"] = "on"
    return client.post(PREVIEW, data)


@pytest.mark.parametrize("persona", WRITERS)
def test_it_previews_for_the_sample_contact(personas, persona):
    response = preview(personas.client(persona), "Hi {{ first_name }}!")

    assert response.status_code == 200
    text = visible(response)
    assert "Hi Alex!" in text
    assert FOOTER in text
    assert "GSM-7" in text
    assert "1 segment" in text
    assert SmsTemplate.objects.count() == 0


def test_it_previews_without_the_footer(personas):
    response = preview(personas.client("marketer"), "Hi {{ first_name }}!", footer=False)

    assert response.status_code == 200
    text = visible(response)
    assert "Hi Alex!" in text
    assert FOOTER not in text
    assert "GSM-7 · 8 characters" in text


def test_it_previews_for_a_chosen_contact(personas):
    contact = add_contact(
        personas.org, first_name="Jordan", last_name="Lee", custom_fields={"plan": "gold"}
    )

    response = preview(
        personas.client("marketer"),
        "Hi {{ first_name }}, your plan is {{ custom.plan }}.",
        contact=str(contact.public_id),
    )

    assert response.status_code == 200
    text = visible(response)
    assert "Hi Jordan, your plan is gold." in text
    assert "Alex" not in text
    assert "for Jordan Lee" in text


def test_it_answers_404_for_another_organizations_contact_in_the_preview(personas):
    theirs = add_contact(personas.other_org, first_name="Bianca")

    response = preview(
        personas.client("marketer"), "Hi {{ first_name }}", contact=str(theirs.public_id)
    )

    assert response.status_code == 404
    assert "Bianca" not in response.content.decode()


@pytest.mark.parametrize("bad_id", ["not-a-uuid", str(uuid.uuid4())])
def test_it_answers_404_for_an_unknown_contact_in_the_preview(personas, bad_id):
    response = preview(personas.client("marketer"), "Hi {{ first_name }}", contact=bad_id)

    assert response.status_code == 404


def test_it_shows_ucs2_for_smart_quotes(personas):
    response = preview(personas.client("marketer"), SMART_QUOTES, footer=False)

    assert response.status_code == 200
    text = visible(response)
    assert SMART_QUOTES in text
    assert "UCS-2" in text
    assert "GSM-7" not in text


def test_it_shows_an_error_for_a_bad_merge_field(personas):
    response = preview(personas.client("marketer"), "Hi {{ nickname }}")

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "Unknown field “nickname”" in visible(response)
    assert "segment" not in visible(response)


def test_it_warns_when_the_longest_contact_values_cost_more_segments(personas):
    add_contact(personas.org, first_name="B" * 100)

    response = preview(personas.client("marketer"), "x" * 60 + " {{ first_name }}", footer=False)

    assert response.status_code == 200
    text = visible(response)
    assert "1 segment" in text
    assert "Your longest contact values make it 161 characters: 2 segments (GSM-7)." in text


def test_it_does_not_warn_when_the_longest_custom_value_still_fits(personas):
    add_contact(personas.org, custom_fields={"plan": "p" * 150})
    add_contact(personas.org, phone="+14155550101", custom_fields={"plan": "basic"})

    response = preview(personas.client("marketer"), "Plan: {{ custom.plan }}", footer=False)

    assert response.status_code == 200
    text = visible(response)
    assert "Plan: GSM-7 · 5 characters · 1 segment" in text
    assert "Your longest contact values" not in text
    assert "Worst case over your contacts: 1 segment." in text


def test_it_warns_when_a_custom_value_makes_it_longer(personas):
    add_contact(personas.org, custom_fields={"plan": "p" * 160})

    response = preview(personas.client("marketer"), "Plan: {{ custom.plan }}", footer=False)

    assert response.status_code == 200
    assert "Your longest contact values make it 166 characters: 2 segments (GSM-7)." in visible(
        response
    )


# HTML in a template is text


def test_it_escapes_html_on_the_list(personas):
    add(personas.org, "<i>Fancy</i>", HTML_BODY)

    response = personas.client("viewer").get(LIST)

    content = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;" in content
    assert "<script>alert" not in content
    assert "<i>Fancy</i>" not in content
    assert "<b>bold</b>" not in content


def test_it_escapes_html_in_the_editor(personas):
    template = add(personas.org, "<i>Fancy</i>", HTML_BODY)

    response = personas.client("marketer").get(edit_path(template))

    content = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"<textarea[^>]*>\s*&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;", content)
    assert "<script>alert" not in content
    assert "<i>Fancy</i>" not in content


def test_it_escapes_html_in_the_editor_after_an_error(personas):
    add(personas.org, "Taken", "x")

    response = personas.client("marketer").post(NEW, form(name="Taken", body=HTML_BODY))

    content = response.content.decode()
    assert response.status_code == 400
    assert "&lt;script&gt;" in content
    assert "<script>alert" not in content


def test_it_escapes_html_in_the_preview(personas):
    response = preview(personas.client("marketer"), HTML_BODY)

    content = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;" in content
    assert "<script>alert" not in content
    assert "<b>bold</b>" not in content
