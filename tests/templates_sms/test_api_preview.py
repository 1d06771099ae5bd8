"""``/api/v1/templates/<id>/preview/``: the text, its encoding and segments."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from templates_sms.models import SmsTemplate
from tests.templates_sms.helpers import API_BODY as BODY
from tests.templates_sms.helpers import FOOTER, SMART_QUOTES, add_contact, error, url
from tests.templates_sms.helpers import api_add as add
from tests.templates_sms.helpers import api_snapshot as snapshot

pytestmark = pytest.mark.django_db


PREVIEW_FIELDS = {"text", "encoding", "segments", "characters", "ucs2_characters"}


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
