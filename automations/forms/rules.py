"""The automation's name, its entry and exit rules, and its re-entry policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from automations.forms.base import DraftForm, TagsField, tag_input
from automations.services.automations import MAX_NAME


class NameForm(DraftForm):
    name = forms.CharField(label="Name", max_length=MAX_NAME)
    paths = {"name": "name"}


class EntryRulesForm(DraftForm):
    has_all_tags = TagsField(label="Has all of these tags", widget=tag_input())
    has_any_tags = TagsField(label="Has at least one of these tags", widget=tag_input())
    lacks_tags = TagsField(label="Has none of these tags", widget=tag_input())
    custom_fields = forms.CharField(
        label="Custom fields equal",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: field = value, such as plan = pro.",
    )
    paths = {
        "entry_rules.has_all_tags": "has_all_tags",
        "entry_rules.has_any_tags": "has_any_tags",
        "entry_rules.lacks_tags": "lacks_tags",
        "entry_rules.custom_fields": "custom_fields",
    }

    @staticmethod
    def initial_for(rules: Mapping[str, Any]) -> dict[str, Any]:
        custom = rules.get("custom_fields") or {}
        return {
            "has_all_tags": rules.get("has_all_tags", []),
            "has_any_tags": rules.get("has_any_tags", []),
            "lacks_tags": rules.get("lacks_tags", []),
            "custom_fields": "\n".join(f"{k} = {v}" for k, v in custom.items()),
        }

    def clean_custom_fields(self) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for line in self.cleaned_data["custom_fields"].splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"“{line.strip()}”: write field = value.")
            pairs[key.strip()] = value.strip()
        return pairs

    def rules(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in self.fields}


class ExitRulesForm(DraftForm):
    on_reply = forms.BooleanField(label="The contact replies", required=False)
    on_tag_added = TagsField(label="The contact gains one of these tags", widget=tag_input())
    on_trigger_tag_removed = forms.BooleanField(
        label="The contact loses the trigger's tag", required=False
    )
    paths = {
        "exit_rules.on_reply": "on_reply",
        "exit_rules.on_tag_added": "on_tag_added",
        "exit_rules.on_trigger_tag_removed": "on_trigger_tag_removed",
    }

    def rules(self) -> dict[str, Any]:
        return {
            "on_reply": self.cleaned_data["on_reply"],
            "on_tag_added": self.cleaned_data["on_tag_added"],
            "on_trigger_tag_removed": self.cleaned_data["on_trigger_tag_removed"],
        }


class ReentryForm(DraftForm):
    policy = forms.ChoiceField(
        label="A contact can enter",
        widget=forms.RadioSelect,
        choices=[
            ("once", "Once: at most once ever"),
            ("every_time", "Every time the trigger fires"),
            ("after_days", "Again, some days after entering"),
        ],
    )
    days = forms.IntegerField(
        label="Days before entering again", required=False, min_value=1, max_value=3650
    )
    paths = {"reentry.policy": "policy", "reentry.days": "days", "reentry": "policy"}

    def reentry(self) -> dict[str, Any]:
        policy = self.cleaned_data["policy"]
        if policy == "after_days":
            return {"policy": policy, "days": self.cleaned_data["days"]}
        return {"policy": policy}
