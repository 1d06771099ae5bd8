"""Shared by the SMS template page, API and service tests: builders, paths and snapshots."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contacts.models import Contact
from contacts.services.contacts import contact_create
from templates_sms.media import media_url_check
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create
from tenants.errors import ApplicationError
from tenants.models import Organization
from tests.factories import page_text

WRITERS = ["owner", "admin", "marketer"]
FOOTER = "Reply STOP to opt out"
SMART_QUOTES = "We\u2019re \u201copen\u201d today"  # curly quotes force UCS-2


def add_contact(organization: Organization, phone: str = "+14155550100", **data: Any) -> Contact:
    return contact_create(organization=organization, source="test", phone=phone, **data)


# The pages (their test modules import ``PAGE_BODY as BODY``, ``page_add as add`` and
# ``page_snapshot as snapshot``)

LIST = "/templates/"
NEW = "/templates/new/"
PREVIEW = "/templates/preview/"
PAGE_BODY = "Hi {{ first_name }}, your order is ready."
HTML_BODY = "<b>bold</b><script>alert(1)</script>"


def page_add(
    organization: Organization, name: str = "Welcome", body: str = PAGE_BODY, **data: Any
) -> SmsTemplate:
    return template_create(organization=organization, name=name, body=body, **data).template


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
        "body": PAGE_BODY,
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


def page_snapshot() -> list[tuple[Any, ...]]:
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


def preview(client: Any, body: str, footer: bool = True, contact: str = "") -> Any:
    data = {"body": body, "contact": contact}
    if footer:
        data["append_opt_out_footer"] = "on"
    return client.post(PREVIEW, data)


# The API (its test modules import ``API_BODY as BODY``, ``api_add as add`` and
# ``api_snapshot as snapshot``)

TEMPLATES = "/api/v1/templates/"
API_BODY = "Hi {{ first_name }}!"
FIELDS = {
    "id",
    "name",
    "body",
    "media_url",
    "append_opt_out_footer",
    "created_at",
    "updated_at",
}
PUBLIC_IMAGE = "https://93.184.215.14/cat.jpg"


def api_add(
    organization: Organization, name: str = "Welcome", body: str = API_BODY, **data: Any
) -> SmsTemplate:
    return template_create(organization=organization, name=name, body=body, **data).template


def url(template: SmsTemplate | str, tail: str = "") -> str:
    key = template.public_id if isinstance(template, SmsTemplate) else template
    return f"{TEMPLATES}{key}/{tail}"


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def api_snapshot() -> list[tuple[Any, ...]]:
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


# The services (their test modules import ``SERVICE_BODY as BODY``)

SERVICE_BODY = 'Hi {{ first_name|default:"there" }}, 20% off today at {{ organization.name }}.'


def create(personas, name="Welcome", body=SERVICE_BODY, organization=None, **data) -> SmsTemplate:
    organization = organization or personas.org
    saved = template_create(
        organization=organization, by=personas.marketer, name=name, body=body, **data
    )
    return saved.template


def names(organization) -> list[str]:
    return list(
        SmsTemplate.objects.filter(organization=organization)
        .order_by("name")
        .values_list("name", flat=True)
    )


def refusal(url: str) -> str:
    """The words the media check refuses ``url`` with (naming the media_url field)."""
    with pytest.raises(ApplicationError) as caught:
        media_url_check(url)
    assert set(caught.value.fields) == {"media_url"}
    return " ".join(caught.value.fields["media_url"])
