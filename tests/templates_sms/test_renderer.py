"""Merge fields: strict validation at save time, a renderer that never raises."""

from __future__ import annotations

import pytest

from templates_sms.renderer import (
    MergeField,
    template_fields,
    template_render,
    template_validate,
)
from tenants.errors import ApplicationError

GREETING = 'Hi {{ first_name|default:"there" }}!'


def body_errors(body: str) -> str:
    with pytest.raises(ApplicationError) as caught:
        template_validate(body)
    assert set(caught.value.fields) == {"body"}
    return " ".join(caught.value.fields["body"])


# --- Rendering ----------------------------------------------------------------------------


def test_it_renders_a_contact_field():
    assert template_render("Hi {{ first_name }}!", {"first_name": "Alex"}) == "Hi Alex!"


def test_it_renders_every_contact_field_and_the_organization_name():
    body = "{{ first_name }} {{ last_name }} {{ phone }} {{ email }} at {{ organization.name }}"
    values = {
        "first_name": "Alex",
        "last_name": "Morgan",
        "phone": "+14155550123",
        "email": "alex@example.com",
        "organization.name": "Acme A",
    }

    assert template_render(body, values) == "Alex Morgan +14155550123 alex@example.com at Acme A"


def test_it_accepts_merge_fields_written_without_spaces_or_with_extra_ones():
    body = '{{first_name}}/{{   last_name   }}/{{ email | default : "none" }}'

    template_validate(body)
    assert template_render(body, {"first_name": "A", "last_name": "B"}) == "A/B/none"


@pytest.mark.parametrize("value", ["Alex", "  Alex "])
def test_it_uses_the_value_when_there_is_one(value):
    assert template_render(GREETING, {"first_name": value}) == f"Hi {value}!"


@pytest.mark.parametrize("value", ["", " ", "   \t\n "])
def test_it_uses_the_fallback_for_an_empty_or_blank_value(value):
    assert template_render(GREETING, {"first_name": value}) == "Hi there!"


def test_it_uses_the_fallback_for_a_missing_value():
    assert template_render(GREETING, {}) == "Hi there!"


def test_it_renders_a_missing_value_without_a_fallback_as_nothing():
    assert template_render("Hi {{ first_name }}!", {}) == "Hi !"
    assert template_render("Hi {{ first_name }}!", {"first_name": "  "}) == "Hi !"


def test_it_renders_a_custom_field():
    body = 'Your plan: {{ custom.plan|default:"basic" }}.'

    assert template_render(body, {"custom.plan": "gold"}) == "Your plan: gold."


def test_it_renders_a_missing_custom_field_as_its_fallback_or_nothing():
    assert template_render('Plan: {{ custom.plan|default:"basic" }}.', {}) == "Plan: basic."
    assert template_render("Plan: {{ custom.plan }}.", {}) == "Plan: ."
    assert template_render("Plan: {{ custom.renewal_date }}.", {"custom.plan": "x"}) == "Plan: ."


def test_it_keeps_each_fields_own_fallback():
    body = '{{ first_name|default:"friend" }} {{ last_name|default:"" }}/{{ custom.a|default:"x" }}'

    assert template_render(body, {}) == "friend /x"


def test_it_renders_the_organization_name():
    body = "{{ organization.name }}: sale today"

    assert template_render(body, {"organization.name": "Acme A"}) == "Acme A: sale today"


def test_it_returns_html_in_a_body_and_in_values_as_is():
    body = '<b>{{ first_name }}</b> & <a href="x">{{ custom.note }}</a>'
    values = {"first_name": "<script>alert(1)</script>", "custom.note": "Tom & Jerry"}

    assert template_render(body, values) == (
        '<b><script>alert(1)</script></b> & <a href="x">Tom & Jerry</a>'
    )


def test_it_does_not_render_merge_fields_inside_values_again():
    values = {"first_name": "{{ last_name }}", "last_name": "Smith", "custom.x": "{{ custom.x }}"}

    rendered = template_render("{{ first_name }} {{ last_name }} {{ custom.x }}", values)

    assert rendered == "{{ last_name }} Smith {{ custom.x }}"


def test_it_rejects_a_fallback_that_contains_a_merge_field():
    body_errors('{{ first_name|default:"{{ last_name }}" }}')


def test_it_renders_a_body_without_merge_fields_unchanged():
    body = "Sale today!\nBraces { and } alone, 50% off, #tags."

    assert template_render(body, {}) == body


# --- Rendering never raises -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hi {{ nickname }}!", "Hi !"),
        ("Hi {{ contact.__class__ }}!", "Hi !"),
        ("Hi {{ first_name|upper }}!", "Hi !"),
        ("Hi {{ first_name, first_name }}!", "Hi !"),
        ("Hi {{ }}!", "Hi !"),
        ("Hi {{ custom.Bad-Key }}!", "Hi !"),
        ("Hi {{ first_name", "Hi {{ first_name"),
        ("Hi first_name }}", "Hi first_name }}"),
        ("{% load static %}Hi", "{% load static %}Hi"),
        ("{% if first_name %}Hi{% endif %}", "{% if first_name %}Hi{% endif %}"),
        ("{# note #}Hi {{ first_name }}", "{# note #}Hi Alex"),
    ],
)
def test_it_renders_an_invalid_body_without_raising(body, expected):
    assert template_render(body, {"first_name": "Alex", "nickname": "Al"}) == expected


# --- Validation -----------------------------------------------------------------------------


def test_it_lists_the_merge_fields_in_order_with_their_fallbacks():
    body = 'Hi {{ first_name|default:"there" }}, {{ custom.plan }} from {{ organization.name }}'

    assert template_fields(body) == [
        MergeField(name="first_name", fallback="there"),
        MergeField(name="custom.plan", fallback=""),
        MergeField(name="organization.name", fallback=""),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "No merge fields at all.",
        "Hi {{ first_name }} {{ last_name }} ({{ phone }}, {{ email }})",
        '{{ custom.renewal_date|default:"soon" }} at {{ organization.name }}',
        "{{ custom.a1_b2 }}",
        "Braces { alone } are text",
    ],
)
def test_it_accepts_known_merge_fields(body):
    template_validate(body)


@pytest.mark.parametrize("name", ["nickname", "organization.phone", "contact.first_name"])
def test_it_rejects_an_unknown_field_naming_it(name):
    message = body_errors(f"Hi {{{{ {name} }}}}!")

    assert f"“{name}”" in message


def test_it_rejects_an_unknown_field_after_known_ones_naming_it():
    message = body_errors('Hi {{ first_name|default:"x" }}, {{ favourite_colour }}')

    assert "favourite_colour" in message
    assert "“first_name”" not in message


@pytest.mark.parametrize("name", ["custom.Plan", "custom.1plan", "custom._plan", "custom."])
def test_it_rejects_a_custom_field_with_an_impossible_key(name):
    message = body_errors(f"{{{{ {name} }}}}")

    assert name in message


@pytest.mark.parametrize(
    "body",
    [
        "{{ contact.__class__ }}",
        "{{ first_name.__class__ }}",
        "{{ custom.__class__ }}",
        "{{ organization.__dict__ }}",
        "{{ first_name.__class__.__mro__ }}",
    ],
)
def test_it_rejects_attribute_lookups(body):
    message = body_errors(body)

    assert "__" in message


@pytest.mark.parametrize(
    "body",
    [
        "{% load static %}Hi",
        "{% if first_name %}Hi {{ first_name }}{% endif %}",
        "Hi {% now 'Y' %}",
        "Stray %} closer",
    ],
)
def test_it_rejects_template_tags(body):
    assert "{% … %}" in body_errors(body)


def test_it_rejects_comments():
    assert "{# … #}" in body_errors("{# internal note #}Hi {{ first_name }}")


@pytest.mark.parametrize(
    "tag",
    [
        "{{ first_name, first_name }}",
        "{{ }}",
        "{{}}",
        "{{ first_name|upper }}",
        "{{ first_name|default:there }}",
        '{{ first_name|default:"a"|default:"b" }}',
        "{{ first_name last_name }}",
        "{{ First_Name }}",
    ],
)
def test_it_rejects_a_malformed_merge_field_quoting_it(tag):
    assert tag in body_errors(f"Hi {tag}!")


@pytest.mark.parametrize(
    "body",
    ["Hi {{ first_name", "Hi first_name }}", "Hi {{ first_name }} and {{ last_name"],
)
def test_it_rejects_an_unclosed_merge_field(body):
    assert "not closed" in body_errors(body)


def test_it_rejects_with_an_application_error_that_names_the_body_field():
    with pytest.raises(ApplicationError) as caught:
        template_fields("{{ nickname }}")

    assert caught.value.status == 400
    assert "nickname" in caught.value.summary()
