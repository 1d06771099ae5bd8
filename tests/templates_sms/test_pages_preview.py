"""The preview fragment of the SMS template editor, for the sample or a chosen contact."""

from __future__ import annotations

import pytest

from templates_sms.models import SmsTemplate
from tests.templates_sms.helpers import FOOTER, SMART_QUOTES, WRITERS, add_contact, preview, visible

pytestmark = pytest.mark.django_db


# The preview fragment


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


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"])
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
