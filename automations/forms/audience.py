"""Who a manual run (**Run now**) goes to: all contacts, or those who match tags and custom
fields. The form builds the audience ``automations.definition.audience`` checks; the errors it
names under ``audience`` come back to their fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from automations.forms.base import DraftForm, TagsField, hide_optional, tag_input
from contacts.services.contacts import custom_fields_clean
from tenants.errors import ApplicationError

# Custom field = value pairs the form offers: a launch to more specific contacts than three
# fields tell apart is rare, and a tag says it better.
CUSTOM_PAIRS = 3
TAG_RULES = ("has_all_tags", "has_any_tags", "lacks_tags")


def key_field(n: int) -> str:
    return f"custom_key_{n}"


def value_field(n: int) -> str:
    return f"custom_value_{n}"


class AudienceForm(DraftForm):
    who = forms.ChoiceField(
        label="Who gets it",
        widget=forms.RadioSelect,
        choices=[("all", "All contacts"), ("rules", "The contacts who match these rules")],
        error_messages={"required": "Choose who gets it: all contacts, or those who match."},
    )
    has_all_tags = TagsField(label="Has all of these tags", widget=tag_input())
    has_any_tags = TagsField(label="Has at least one of these tags", widget=tag_input())
    lacks_tags = TagsField(label="Has none of these tags", widget=tag_input())
    paths = {
        "audience": "who",
        "audience.has_all_tags": "has_all_tags",
        "audience.has_any_tags": "has_any_tags",
        "audience.lacks_tags": "lacks_tags",
        "audience.custom_fields": key_field(1),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, CUSTOM_PAIRS + 1):
            self.fields[key_field(n)] = forms.CharField(
                label=f"Custom field {n}",
                required=False,
                max_length=50,
                widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "plan"}),
            )
            self.fields[value_field(n)] = forms.CharField(
                label=f"Custom field {n} equals", required=False, max_length=500
            )
        hide_optional(self)

    def pairs(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        """Each custom field's name and value, for the template to lay out side by side."""
        return [(self[key_field(n)], self[value_field(n)]) for n in range(1, CUSTOM_PAIRS + 1)]

    def clean(self) -> dict[str, Any]:
        """Each custom field is checked on its own, so that its error is shown beside it."""
        cleaned = super().clean() or {}
        seen: set[str] = set()
        for n in range(1, CUSTOM_PAIRS + 1):
            key = (cleaned.get(key_field(n)) or "").strip()
            value = (cleaned.get(value_field(n)) or "").strip()
            if not key:
                if value:
                    self.add_error(key_field(n), "Name the custom field this value is for.")
                continue
            if key in seen:
                self.add_error(key_field(n), f"“{key}” is already given above.")
                continue
            seen.add(key)
            try:
                custom_fields_clean({key: value})
            except ApplicationError as error:
                self.add_error(key_field(n), error.summary())
        return cleaned

    def audience(self) -> dict[str, Any]:
        """The audience as launches take it (checked there, by ``audience_clean``)."""
        data = self.cleaned_data
        if data["who"] == "all":
            return {"all": True}
        custom = {}
        for n in range(1, CUSTOM_PAIRS + 1):
            if key := data[key_field(n)].strip():
                custom[key] = data[value_field(n)].strip()
        return {**{rule: data[rule] for rule in TAG_RULES}, "custom_fields": custom}

    @staticmethod
    def data_for(audience: Mapping[str, Any]) -> dict[str, str]:
        """The form's fields as a browser would submit them for this audience (to change it
        from the confirmation)."""
        if audience.get("all"):
            return {"who": "all"}
        data = {"who": "rules"}
        data.update({rule: ", ".join(audience.get(rule) or []) for rule in TAG_RULES})
        for n, (key, value) in enumerate((audience.get("custom_fields") or {}).items(), start=1):
            data[key_field(n)], data[value_field(n)] = key, value
        return data
