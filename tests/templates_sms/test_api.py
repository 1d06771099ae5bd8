"""``/api/v1/templates/``: listing, create, read, update, delete, preview, and what each key may
reach."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db.models import Model, ProtectedError

from contacts.models import Contact, Tag
from contacts.services.contacts import contact_create
from templates_sms import media
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create
from tenants.models import Organization

pytestmark = pytest.mark.django_db

TEMPLATES = "/api/v1/templates/"
WRITERS = ["owner", "admin", "marketer"]
BODY = "Hi {{ first_name }}!"
FOOTER = "Reply STOP to opt out"
SMART_QUOTES = "We\u2019re \u201copen\u201d today"  # curly quotes force UCS-2
FIELDS = {
    "id",
    "name",
    "body",
    "media_url",
    "append_opt_out_footer",
    "created_at",
    "updated_at",
}
PREVIEW_FIELDS = {"text", "encoding", "segments", "characters", "ucs2_characters"}
PUBLIC_IMAGE = "https://93.184.215.14/cat.jpg"


def add(
    organization: Organization, name: str = "Welcome", body: str = BODY, **data: Any
) -> SmsTemplate:
    return template_create(organization=organization, name=name, body=body, **data).template


def add_contact(organization: Organization, phone: str = "+14155550100", **data: Any) -> Contact:
    return contact_create(organization=organization, source="test", phone=phone, **data)


def url(template: SmsTemplate | str, tail: str = "") -> str:
    key = template.public_id if isinstance(template, SmsTemplate) else template
    return f"{TEMPLATES}{key}/{tail}"


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


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
            "updated_at",
        )
    )


def call(api: Any, method: str, path: str, data: Any = None) -> Any:
    if data is None:
        return getattr(api, method)(path)
    return getattr(api, method)(path, data, format="json")


def read_routes(template: SmsTemplate | str) -> dict[str, tuple[str, str, Any]]:
    return {
        "list": ("get", TEMPLATES, None),
        "get": ("get", url(template), None),
    }


def write_routes(template: SmsTemplate | str) -> dict[str, tuple[str, str, Any]]:
    return {
        "create": ("post", TEMPLATES, {"name": "Sneaky", "body": "Hello"}),
        "patch": ("patch", url(template), {"name": "Renamed"}),
        "put": ("put", url(template), {"name": "Replaced", "body": "Replaced body"}),
        "delete": ("delete", url(template), None),
    }


def object_routes(template: SmsTemplate | str) -> dict[str, tuple[str, str, Any]]:
    return {
        "get": ("get", url(template), None),
        "patch": ("patch", url(template), {"name": "Renamed"}),
        "put": ("put", url(template), {"name": "Replaced", "body": "Replaced body"}),
        "delete": ("delete", url(template), None),
        "preview": ("post", url(template, "preview/"), {}),
    }


ANY = "00000000-0000-0000-0000-000000000000"
READ_ROUTES = list(read_routes(ANY))
WRITE_ROUTES = list(write_routes(ANY))
OBJECT_ROUTES = list(object_routes(ANY))
ALL_ROUTES = sorted({*READ_ROUTES, *WRITE_ROUTES, *OBJECT_ROUTES})


def all_routes(template: SmsTemplate) -> dict[str, tuple[str, str, Any]]:
    return {**read_routes(template), **write_routes(template), **object_routes(template)}


# Listing


def test_it_lists_the_organizations_templates(personas):
    first = add(personas.org, "Welcome", BODY)
    second = add(personas.org, "Reminder", "See you {{ first_name }}", append_opt_out_footer=False)
    add(personas.other_org, "Beta only", "Secret B text")

    response = personas.api("viewer").get(TEMPLATES)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    assert body["next"] is None
    assert body["previous"] is None
    by_id = {item["id"]: item for item in body["results"]}
    assert set(by_id) == {str(first.public_id), str(second.public_id)}
    item = by_id[str(second.public_id)]
    assert set(item) == FIELDS
    assert item["name"] == "Reminder"
    assert item["body"] == "See you {{ first_name }}"
    assert item["media_url"] == ""
    assert item["append_opt_out_footer"] is False
    assert "Secret B text" not in response.content.decode()


def test_it_pages_the_list(personas):
    created = {str(add(personas.org, f"Template {n}", f"Body {n}").public_id) for n in range(3)}
    api = personas.api("viewer")

    first = api.get(TEMPLATES, {"limit": 2})

    assert first.status_code == 200
    page = first.json()
    assert len(page["results"]) == 2
    assert page["previous"] is None
    assert page["next"]
    second = api.get(page["next"])
    assert second.status_code == 200
    rest = second.json()
    assert len(rest["results"]) == 1
    assert rest["next"] is None
    assert rest["previous"]
    seen = [item["id"] for item in page["results"] + rest["results"]]
    assert sorted(seen) == sorted(created)


def test_it_lists_nothing_for_an_organization_without_templates(personas):
    add(personas.org)

    response = personas.api("outsider").get(TEMPLATES)

    assert response.status_code == 200
    assert response.json() == {"results": [], "next": None, "previous": None}


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


# Preview


def preview(api: Any, template: SmsTemplate, data: Any = None) -> Any:
    return api.post(url(template, "preview/"), data or {}, format="json")


def test_it_previews_for_the_sample_contact(personas):
    template = add(personas.org, "Welcome", BODY)

    response = preview(personas.api("marketer"), template)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PREVIEW_FIELDS
    text = f"Hi Alex!\n{FOOTER}"
    assert body == {
        "text": text,
        "encoding": "GSM-7",
        "segments": 1,
        "characters": len(text),
        "ucs2_characters": [],
    }


def test_it_previews_without_the_footer_when_the_template_says_so(personas):
    template = add(personas.org, "Welcome", BODY, append_opt_out_footer=False)

    response = preview(personas.api("marketer"), template)

    assert response.status_code == 200
    assert response.json()["text"] == "Hi Alex!"
    assert response.json()["characters"] == 8


def test_it_previews_with_the_organizations_footer(personas):
    personas.org.opt_out_footer = "Text STOP to quit"
    personas.org.save(update_fields=["opt_out_footer"])
    template = add(personas.org, "Welcome", "Hello {{ organization.name }}")

    response = preview(personas.api("viewer"), template)

    assert response.status_code == 200
    assert response.json()["text"] == "Hello Acme A\nText STOP to quit"


def test_it_previews_for_a_contact_of_the_organization(personas):
    contact = add_contact(
        personas.org, first_name="Jordan", last_name="Lee", custom_fields={"plan": "gold"}
    )
    template = add(
        personas.org,
        "Plan",
        "Hi {{ first_name }}, plan: {{ custom.plan }}",
        append_opt_out_footer=False,
    )

    response = preview(personas.api("marketer"), template, {"contact": str(contact.public_id)})

    assert response.status_code == 200
    assert response.json()["text"] == "Hi Jordan, plan: gold"


def test_it_uses_the_fallback_for_a_contact_without_the_value(personas):
    contact = add_contact(personas.org, first_name="")
    template = add(
        personas.org, "Hi", 'Hi {{ first_name|default:"there" }}', append_opt_out_footer=False
    )

    response = preview(personas.api("marketer"), template, {"contact": str(contact.public_id)})

    assert response.status_code == 200
    assert response.json()["text"] == "Hi there"


def test_it_answers_404_for_another_organizations_contact(personas):
    theirs = add_contact(personas.other_org, first_name="Bianca")
    template = add(personas.org)

    response = preview(personas.api("marketer"), template, {"contact": str(theirs.public_id)})

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert "Bianca" not in response.content.decode()


def test_it_answers_404_for_an_unknown_contact(personas):
    template = add(personas.org)

    response = preview(personas.api("marketer"), template, {"contact": str(uuid.uuid4())})

    assert response.status_code == 404


def test_it_counts_smart_quotes_as_ucs2(personas):
    template = add(personas.org, "Quotes", SMART_QUOTES, append_opt_out_footer=False)

    response = preview(personas.api("marketer"), template)

    assert response.status_code == 200
    body = response.json()
    assert body["encoding"] == "UCS-2"
    assert body["characters"] == 18
    assert body["segments"] == 1
    assert body["ucs2_characters"] == ["\u2019", "\u201c", "\u201d"]


@pytest.mark.parametrize(("count", "segments"), [(35, 1), (36, 2), (67, 3)])
def test_it_counts_code_points_and_ucs2_units_for_emoji(personas, count, segments):
    template = add(personas.org, "Emoji", "😀" * count, append_opt_out_footer=False)

    response = preview(personas.api("marketer"), template)

    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "😀" * count
    assert body["characters"] == count
    assert body["encoding"] == "UCS-2"
    assert body["segments"] == segments
    assert body["ucs2_characters"] == ["😀"]


def test_it_counts_the_footer_in_the_segments(personas):
    body_text = "a" * 150
    with_footer = add(personas.org, "With", body_text)
    without_footer = add(personas.org, "Without", body_text, append_opt_out_footer=False)
    api = personas.api("marketer")

    with_response = preview(api, with_footer).json()
    without_response = preview(api, without_footer).json()

    assert with_response["text"] == f"{body_text}\n{FOOTER}"
    assert with_response["characters"] == 150 + 1 + len(FOOTER)
    assert with_response["segments"] == 2
    assert without_response["text"] == body_text
    assert without_response["characters"] == 150
    assert without_response["segments"] == 1


def test_it_lets_a_viewer_preview_without_changing_anything(personas):
    template = add(personas.org)
    before = snapshot()

    response = preview(personas.api("viewer"), template)

    assert response.status_code == 200
    assert response.json()["text"] == f"Hi Alex!\n{FOOTER}"
    assert snapshot() == before


# Who may reach what


@pytest.mark.parametrize("route", READ_ROUTES)
def test_it_lets_a_viewer_key_read(personas, route):
    template = add(personas.org)
    method, path, data = read_routes(template)[route]

    response = call(personas.api("viewer"), method, path, data)

    assert response.status_code == 200
    assert str(template.public_id) in response.content.decode()


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_it_refuses_writes_to_a_viewer_key(personas, route):
    template = add(personas.org)
    method, path, data = write_routes(template)[route]
    before = snapshot()

    response = call(personas.api("viewer"), method, path, data)

    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_it_answers_404_to_another_organizations_key(personas, route):
    ours = add(personas.org, "Acme only", "Secret A text")
    method, path, data = object_routes(ours)[route]
    before = snapshot()

    response = call(personas.api("outsider"), method, path, data)

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert "Secret A text" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_it_answers_404_for_another_organizations_template(personas, route):
    theirs = add(personas.other_org, "Beta only", "Secret B text")
    method, path, data = object_routes(theirs)[route]
    before = snapshot()

    response = call(personas.api("admin"), method, path, data)

    assert response.status_code == 404
    assert "Secret B text" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "data"),
    [("patch", {"body": ""}), ("put", {"name": "Only a name"}), ("put", {})],
)
def test_it_answers_404_to_another_organizations_key_even_for_invalid_input(personas, method, data):
    ours = add(personas.org, "Acme only", "Secret A text")
    before = snapshot()

    response = call(personas.api("outsider"), method, url(ours), data)

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize("method", ["patch", "put"])
def test_it_answers_404_for_a_malformed_id_even_for_invalid_input(personas, method):
    add(personas.org)
    before = snapshot()

    response = call(personas.api("admin"), method, url("not-a-uuid"), {"body": ""})

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", str(uuid.uuid4())])
def test_it_answers_404_for_malformed_or_unknown_ids(personas, route, bad_id):
    template = add(personas.org)
    method, real_path, data = object_routes(template)[route]
    path = real_path.replace(str(template.public_id), bad_id)
    assert path != real_path
    before = snapshot()

    response = call(personas.api("admin"), method, path, data)

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_it_answers_401_without_a_key(personas, route):
    template = add(personas.org)
    method, path, data = all_routes(template)[route]
    before = snapshot()
    anonymous = personas.api("viewer")
    anonymous.credentials()

    response = call(anonymous, method, path, data)

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Hi {{ first_name }}" not in response.content.decode()
    assert snapshot() == before


def test_it_answers_401_to_a_wrong_key(personas):
    template = add(personas.org)
    api = personas.api("admin")
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-key")

    response = api.get(url(template))

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert BODY not in response.content.decode()
