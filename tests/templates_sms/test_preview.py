"""The text a contact would receive, its cost, and the cost for the longest values on file."""

from __future__ import annotations

import itertools

import pytest

from contacts.services.contacts import contact_create
from templates_sms.preview import SAMPLE, message_text, template_preview
from templates_sms.segments import count_segments
from tenants.errors import ApplicationError

pytestmark = pytest.mark.django_db

FOOTER = "Reply STOP to opt out"
_numbers = itertools.count(100)


def add_contact(organization, **data):
    return contact_create(
        organization=organization, source="ui", phone=f"+1415555{next(_numbers):04d}", **data
    )


# --- The sample contact and a real one -------------------------------------------------------


def test_it_previews_the_sample_contact(personas):
    body = (
        "Hi {{ first_name }} {{ last_name }} ({{ phone }}, {{ email }}) "
        "from {{ organization.name }}"
    )

    preview = template_preview(organization=personas.org, body=body, append_footer=False)

    assert preview.text == (
        f"Hi {SAMPLE['first_name']} {SAMPLE['last_name']} ({SAMPLE['phone']}, "
        f"{SAMPLE['email']}) from Acme A"
    )
    assert preview.text == "Hi Alex Morgan (+14155550123, alex@example.com) from Acme A"
    assert preview.info == count_segments(preview.text)
    assert preview.info.segments == 1


def test_it_previews_the_sample_contact_with_custom_fields_as_their_fallbacks(personas):
    body = 'Your plan: {{ custom.plan|default:"basic" }}{{ custom.note }}.'

    preview = template_preview(organization=personas.org, body=body, append_footer=False)

    assert preview.text == "Your plan: basic."


def test_it_previews_a_real_contact_with_custom_fields(personas):
    contact = add_contact(
        personas.org,
        first_name="Bea",
        last_name="Smith",
        email="bea@example.com",
        custom_fields={"plan": "gold", "renewal_date": "2026-03-01"},
    )
    body = (
        "Hi {{ first_name }} {{ last_name }}, your {{ custom.plan }} plan renews "
        '{{ custom.renewal_date }}{{ custom.missing|default:"!" }}'
    )

    preview = template_preview(
        organization=personas.org, body=body, append_footer=False, contact=contact
    )

    assert preview.text == "Hi Bea Smith, your gold plan renews 2026-03-01!"
    assert preview.info == count_segments(preview.text)


def test_it_uses_fallbacks_for_a_real_contacts_empty_fields(personas):
    contact = add_contact(personas.org, first_name="")

    preview = template_preview(
        organization=personas.org,
        body='Hi {{ first_name|default:"there" }}{{ last_name }}!',
        append_footer=False,
        contact=contact,
    )

    assert preview.text == "Hi there!"


def test_it_appends_the_footer_only_when_asked(personas):
    body = "Hi {{ first_name }}"

    without = template_preview(organization=personas.org, body=body, append_footer=False)
    with_footer = template_preview(organization=personas.org, body=body, append_footer=True)

    assert without.text == "Hi Alex"
    assert FOOTER not in without.text
    assert with_footer.text == f"Hi Alex\n{FOOTER}"
    assert with_footer.worst_text.endswith(f"\n{FOOTER}")
    assert FOOTER not in without.worst_text
    assert with_footer.info.units == without.info.units + 1 + len(FOOTER)


def test_it_appends_the_organizations_own_footer(personas):
    personas.org.opt_out_footer = "Text STOP to quit"
    personas.org.save()

    preview = template_preview(organization=personas.org, body="Sale!", append_footer=True)

    assert preview.text == "Sale!\nText STOP to quit"


def test_it_appends_nothing_when_the_organization_has_no_footer(personas):
    personas.org.opt_out_footer = "   "

    preview = template_preview(organization=personas.org, body="Sale!", append_footer=True)

    assert preview.text == "Sale!"


def test_it_sends_the_footer_alone_for_a_body_that_renders_empty(personas):
    text = message_text(
        body="{{ first_name }}", append_footer=True, organization=personas.org, values={}
    )

    assert text == FOOTER


def test_it_counts_the_footer_in_the_segments(personas):
    body = "a" * 150

    preview = template_preview(organization=personas.org, body=body, append_footer=True)

    assert preview.info.units == 150 + 1 + len(FOOTER)
    assert preview.info.segments == 2
    assert (
        template_preview(organization=personas.org, body=body, append_footer=False).info.segments
        == 1
    )


# --- The worst case ---------------------------------------------------------------------------


def test_it_uses_the_longest_first_name_of_the_organizations_contacts(personas):
    add_contact(personas.org, first_name="Al")
    add_contact(personas.org, first_name="Maximilian")
    add_contact(personas.org, first_name="Bo")
    add_contact(personas.other_org, first_name="Bartholomew-Montgomery")

    preview = template_preview(
        organization=personas.org, body="Hi {{ first_name }}!", append_footer=False
    )

    assert preview.text == "Hi Alex!"
    assert preview.worst_text == "Hi Maximilian!"
    assert preview.worst == count_segments("Hi Maximilian!")


def test_it_uses_the_longest_custom_value_of_the_organizations_contacts(personas):
    add_contact(personas.org, custom_fields={"plan": "gold"})
    add_contact(personas.org, custom_fields={"plan": "platinum-plus"})
    add_contact(personas.org, custom_fields={"other": "x" * 200})
    add_contact(personas.org)
    add_contact(personas.other_org, custom_fields={"plan": "the-longest-plan-of-all-time"})

    preview = template_preview(
        organization=personas.org,
        body='Plan: {{ custom.plan|default:"basic" }}',
        append_footer=False,
    )

    assert preview.text == "Plan: basic"
    assert preview.worst_text == "Plan: platinum-plus"


def test_it_takes_the_worst_case_of_each_field_separately(personas):
    add_contact(personas.org, first_name="Christopher", last_name="Li")
    add_contact(personas.org, first_name="Jo", last_name="Vandenberghe-Oosterhuis")

    preview = template_preview(
        organization=personas.org,
        body="{{ first_name }} {{ last_name }} of {{ organization.name }}",
        append_footer=True,
    )

    assert preview.worst_text == f"Christopher Vandenberghe-Oosterhuis of Acme A\n{FOOTER}"


def test_it_shows_a_worst_case_that_costs_more_segments(personas):
    add_contact(personas.org, first_name="Alexandria-Josephine")
    body = "a" * 150 + " {{ first_name }}"

    preview = template_preview(organization=personas.org, body=body, append_footer=False)

    assert preview.info.units == 155
    assert preview.info.segments == 1
    assert preview.worst.units == 171
    assert preview.worst.segments == 2


def test_it_shows_a_worst_case_that_switches_to_ucs2(personas):
    add_contact(personas.org, first_name="Ann")
    add_contact(personas.org, first_name="Жозефина")

    preview = template_preview(
        organization=personas.org, body="Hi {{ first_name }}", append_footer=False
    )

    assert preview.info.encoding == "GSM-7"
    assert preview.worst_text == "Hi Жозефина"
    assert preview.worst.encoding == "UCS-2"


def test_it_uses_the_fallback_as_the_worst_case_when_no_contact_has_a_value(personas):
    add_contact(personas.org, first_name="")
    add_contact(personas.other_org, first_name="Zebedee")

    preview = template_preview(
        organization=personas.org,
        body='Hi {{ first_name|default:"friend" }}, {{ custom.plan|default:"basic" }}',
        append_footer=False,
    )

    assert preview.worst_text == "Hi friend, basic"


def test_it_previews_a_real_contact_with_the_worst_case_still_over_all_contacts(personas):
    short = add_contact(personas.org, first_name="Al")
    add_contact(personas.org, first_name="Bartholomew")

    preview = template_preview(
        organization=personas.org, body="Hi {{ first_name }}", append_footer=False, contact=short
    )

    assert preview.text == "Hi Al"
    assert preview.worst_text == "Hi Bartholomew"


# --- Bad bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Hi {{ nickname }}",
        "Hi {{ first_name|upper }}",
        "{% if first_name %}Hi{% endif %}",
        "{# note #}Hi",
        "Hi {{ first_name",
    ],
)
def test_it_refuses_to_preview_a_bad_body(personas, body):
    with pytest.raises(ApplicationError) as caught:
        template_preview(organization=personas.org, body=body, append_footer=True)

    assert "body" in caught.value.fields


def test_it_names_the_unknown_field_when_refusing_a_preview(personas):
    with pytest.raises(ApplicationError) as caught:
        template_preview(organization=personas.org, body="{{ custom.Plan }}", append_footer=False)

    assert "custom.Plan" in " ".join(caught.value.fields["body"])
