"""Duplicating and deleting SMS templates."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import ProtectedError

from templates_sms.models import SmsTemplate
from templates_sms.services import template_delete, template_duplicate
from tenants.errors import ConflictError
from tests.templates_sms.helpers import SERVICE_BODY as BODY
from tests.templates_sms.helpers import create, names

pytestmark = pytest.mark.django_db


class Named:
    """Something a ProtectedError can list (an automation, in the application)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name


def protect(monkeypatch, *objects: Named) -> None:
    """Makes deleting any template fail as Django does when a PROTECT relation points at it."""
    protected: set[Any] = set(objects)

    def delete(self, *args, **kwargs):
        raise ProtectedError("Cannot delete: referenced through a protected foreign key", protected)

    monkeypatch.setattr(SmsTemplate, "delete", delete)


# --- Duplicate ----------------------------------------------------------------------------


def test_it_duplicates_a_template_as_copy_of_it(personas):
    template = create(
        personas,
        name="Welcome",
        media_url="https://cdn.example.com/a.png",
        append_opt_out_footer=False,
    )

    copy = template_duplicate(template=template, by=personas.admin)

    stored = SmsTemplate.objects.get(pk=copy.pk)
    assert stored.pk != template.pk
    assert stored.name == "Copy of Welcome"
    assert stored.organization == personas.org
    assert stored.body == BODY
    assert stored.media_url == "https://cdn.example.com/a.png"
    assert stored.append_opt_out_footer is False
    assert stored.created_by == personas.admin


def test_it_numbers_further_copies(personas):
    template = create(personas, name="Welcome")

    first = template_duplicate(template=template)
    second = template_duplicate(template=template)
    third = template_duplicate(template=template)

    assert [first.name, second.name, third.name] == [
        "Copy of Welcome",
        "Copy of Welcome (2)",
        "Copy of Welcome (3)",
    ]
    assert names(personas.org) == [
        "Copy of Welcome",
        "Copy of Welcome (2)",
        "Copy of Welcome (3)",
        "Welcome",
    ]


def test_it_names_a_copy_without_regard_to_another_organizations_templates(personas):
    create(personas, name="Copy of Welcome", organization=personas.other_org)
    template = create(personas, name="Welcome")

    copy = template_duplicate(template=template)

    assert copy.name == "Copy of Welcome"


def test_it_keeps_the_copys_name_within_the_limit(personas):
    template = create(personas, name="n" * 120)

    first = template_duplicate(template=template)
    second = template_duplicate(template=template)

    assert first.name.startswith("Copy of n")
    assert second.name == f"{first.name} (2)"
    assert len(first.name) <= 120
    assert len(second.name) <= 120


def test_it_names_a_copy_of_a_long_name_as_the_editor_would_save_it(personas):
    # Cut to fit, "Copy of " + the name would end on the space before "x…".
    template = create(personas, name="n" * 101 + " " + "x" * 18)

    first = template_duplicate(template=template)
    second = template_duplicate(template=template)

    assert first.name == " ".join(first.name.split())
    assert second.name == " ".join(second.name.split())
    assert second.name == f"{first.name} (2)"


# --- Delete -------------------------------------------------------------------------------


def test_it_deletes_a_template(personas):
    template = create(personas, name="Welcome")
    kept = create(personas, name="Reminder")

    template_delete(template=template)

    assert not SmsTemplate.objects.filter(pk=template.pk).exists()
    assert SmsTemplate.objects.filter(pk=kept.pk).exists()


def test_it_refuses_to_delete_a_template_in_use_naming_its_users(personas, monkeypatch):
    template = create(personas, name="Welcome")
    protect(monkeypatch, Named("Birthday automation"), Named("Onboarding automation"))

    with pytest.raises(ConflictError) as caught:
        template_delete(template=template)

    assert caught.value.code == "template_in_use"
    assert caught.value.status == 409
    assert "Welcome" in caught.value.message
    assert "Birthday automation" in caught.value.message
    assert "Onboarding automation" in caught.value.message
    assert SmsTemplate.objects.filter(pk=template.pk).exists()


def test_it_names_five_users_and_counts_the_rest(personas, monkeypatch):
    template = create(personas, name="Welcome")
    protect(monkeypatch, *(Named(f"Automation {n}") for n in range(1, 9)))

    with pytest.raises(ConflictError) as caught:
        template_delete(template=template)

    message = caught.value.message
    assert [f"Automation {n}" in message for n in range(1, 9)] == [True] * 5 + [False] * 3
    assert "and 3 more" in message


def test_it_deletes_only_in_its_own_organization(personas):
    mine = create(personas, name="Welcome")
    theirs = create(personas, name="Welcome", organization=personas.other_org)

    template_delete(template=mine)

    assert names(personas.org) == []
    assert SmsTemplate.objects.get(pk=theirs.pk).name == "Welcome"
