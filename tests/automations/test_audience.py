"""A launch's audience: checked with errors named under ``audience``, said in words, and found
in SQL the way the entry rules decide for one contact."""

from __future__ import annotations

import pytest

from automations.definition.audience import audience_clean, audience_words
from automations.services.audience import audience_contacts
from automations.services.facts import contact_facts, entry_refusal
from contacts.services.tags import contact_tags_add
from tenants.errors import ApplicationError
from tests.automations.helpers import contact


def test_all_contacts_or_rules_and_nothing_else():
    assert audience_clean({"all": True}) == {"all": True}
    assert audience_clean({"has_any_tags": "vip, gold", "custom_fields": {"plan": "pro"}}) == {
        "has_all_tags": [],
        "has_any_tags": ["vip", "gold"],
        "lacks_tags": [],
        "custom_fields": {"plan": "pro"},
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("everyone", "audience"),
        ({}, "audience"),
        ({"all": False}, "audience"),
        ({"has_all_tags": 5}, "audience.has_all_tags"),
        ({"lacks_tags": ["ok"], "custom_fields": "plan"}, "audience.custom_fields"),
    ],
)
def test_a_bad_audience_names_its_field(data, field):
    with pytest.raises(ApplicationError) as raised:
        audience_clean(data)
    assert field in raised.value.fields


def test_the_audience_in_words():
    assert audience_words({"all": True}) == "All contacts"
    rules = audience_clean(
        {
            "has_all_tags": ["vip"],
            "lacks_tags": ["churned", "test"],
            "custom_fields": {"plan": "pro"},
        }
    )
    assert audience_words(rules) == (
        "Contacts with the tag vip, lacking the tags churned, test, whose plan is “pro”"
    )


@pytest.mark.django_db
def test_the_sql_finds_whom_the_entry_rules_let_in(personas):
    people = [
        contact(personas, "+14155550101", custom_fields={"plan": " PRO"}),
        contact(personas, "+14155550102", custom_fields={"plan": "pro"}),
        contact(personas, "+14155550103", custom_fields={"plan": "basic"}),
        contact(personas, "+14155550104"),
        contact(personas, "+14155550105", custom_fields={"plan": "Pro"}),
    ]
    contact_tags_add(contact=people[0], names=["VIP"], source="ui")
    contact_tags_add(contact=people[1], names=["vip", "churned"], source="ui")
    contact_tags_add(contact=people[2], names=["vip"], source="ui")
    contact_tags_add(contact=people[3], names=["gold"], source="ui")
    contact(personas, "+14155550106").delete()
    facts = contact_facts(personas.org, [p.pk for p in people])
    for rules in (
        {"has_all_tags": ["vip"], "lacks_tags": ["churned"], "custom_fields": {"plan": "pro "}},
        {"has_any_tags": ["gold", "Vip"]},
        {"lacks_tags": ["vip", "nonexistent"]},
        {"has_all_tags": ["vip", "nonexistent"]},
        {"has_any_tags": ["nonexistent"]},
        {"custom_fields": {"plan": "pro"}},
    ):
        cleaned = audience_clean(rules)
        found = set(audience_contacts(personas.org, cleaned).values_list("pk", flat=True))
        expected = {p.pk for p in people if not entry_refusal(cleaned, facts, p.pk)}
        assert found == expected, rules
    first = audience_clean(
        {"has_all_tags": ["vip"], "lacks_tags": ["churned"], "custom_fields": {"plan": "pro "}}
    )
    assert list(audience_contacts(personas.org, first)) == [people[0]]
    assert audience_contacts(personas.org, {"all": True}).count() == 5
    assert not audience_contacts(personas.other_org, {"all": True}).exists()
