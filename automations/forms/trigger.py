"""Choosing a trigger: a card per trigger type, each with its own settings fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms.boundfield import BoundField, BoundWidget

from automations.forms.base import DraftForm, hide_optional, tag_input
from automations.services.automations import MAX_NAME
from automations.triggers import Trigger, all_triggers
from automations.triggers.incoming_webhook import DEFAULT_RATE, MAX_RATE

# The settings each trigger type takes on a page (the trigger modules check them).
SETTINGS_FIELDS: dict[str, tuple[str, ...]] = {
    "contact_created": ("sources",),
    "tag_added": ("tag",),
    "tag_removed": ("tag",),
    "inbound_keyword": ("keywords", "match"),
    "incoming_webhook": ("rate_per_second",),
    "date_field": ("field", "offset_days", "time", "recurrence"),
}
MATCH_CHOICES = [
    ("exact", "The whole text is the keyword"),
    ("first_word", "The text starts with the keyword (JOIN NOW matches JOIN)"),
]

RECURRENCE_CHOICES = [("once", "Once, on that date"), ("yearly", "Every year")]
# The date trigger's settings (``date_field``): no choice preselected for the recurrence, as
# "every year" chosen by mistake texts a contact year after year.
DATE_SETTINGS: dict[str, Callable[[], forms.Field]] = {
    "field": lambda: forms.CharField(
        label="Date",
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": "custom.birthday", "autocomplete": "off"}),
        help_text="created_at (the day the contact was added), or custom.<key> for a custom "
        "field holding a date as YYYY-MM-DD.",
    ),
    "offset_days": lambda: forms.IntegerField(
        label="Days after the date",
        required=False,
        initial=0,
        widget=forms.NumberInput(attrs={"min": -365, "max": 365}),
        help_text="0 for the day itself; negative for days before it (-365 to 365).",
    ),
    "time": lambda: forms.CharField(
        label="Time of day",
        required=False,
        max_length=5,
        initial="09:00",
        widget=forms.TextInput(attrs={"type": "time", "placeholder": "HH:MM"}),
        help_text="24-hour time, in the contact's time zone.",
    ),
    "recurrence": lambda: forms.ChoiceField(
        label="Repeat",
        required=False,
        choices=RECURRENCE_CHOICES,
        widget=forms.RadioSelect,
    ),
}


def source_choices() -> list[tuple[str, str]]:
    # Imported here, after the registry has loaded every trigger module: it loads them only
    # while it is empty, so importing one module first would leave the others unregistered.
    all_triggers()
    from automations.triggers.contact_created import SOURCES

    return [(s.value, s.label) for s in SOURCES]


def _setting_field(setting: str) -> forms.Field:
    if setting == "tag":
        return forms.CharField(label="Tag", required=False, max_length=64, widget=tag_input())
    if setting == "rate_per_second":
        # The range is the trigger's to check (and to word); the URL is on the automation's page.
        return forms.IntegerField(
            label="At most, requests a second",
            required=False,
            initial=DEFAULT_RATE,
            widget=forms.NumberInput(attrs={"min": 1, "max": MAX_RATE}),
            help_text=f"Posts beyond it answer 429 with Retry-After (1 to {MAX_RATE}). The "
            "webhook's URL is shown once the automation is created.",
        )
    if setting == "sources":
        return forms.MultipleChoiceField(
            label="Only contacts created by",
            required=False,
            choices=source_choices(),
            widget=forms.CheckboxSelectMultiple,
            help_text="None ticked: a contact created in any way.",
        )
    if setting in DATE_SETTINGS:
        return DATE_SETTINGS[setting]()
    if setting == "keywords":
        return forms.CharField(
            label="Keywords",
            required=False,
            max_length=1000,
            help_text="Separate keywords with commas, such as JOIN, PRICES. Case does not matter.",
        )
    return forms.ChoiceField(
        label="Match",
        required=False,
        choices=MATCH_CHOICES,
        initial="exact",
        widget=forms.RadioSelect,
    )


@dataclass
class TriggerCard:
    trigger: Trigger
    radio: BoundWidget
    fields: list[BoundField]


class TriggerForm(DraftForm):
    """A trigger card to pick and its settings. Each card's settings have their own names
    (``tag_added_tag``), so that every card can show its fields in one form."""

    trigger_type = forms.ChoiceField(
        label="Trigger",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a trigger.", "invalid_choice": "Choose a trigger."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.triggers = all_triggers()
        self.fields["trigger_type"].choices = [(t.type, t.label) for t in self.triggers]  # type: ignore[attr-defined]
        for trigger in self.triggers:
            for setting in SETTINGS_FIELDS.get(trigger.type, ()):
                self.fields[f"{trigger.type}_{setting}"] = _setting_field(setting)
        hide_optional(self)

    @staticmethod
    def initial_for(trigger: Mapping[str, Any]) -> dict[str, Any]:
        kind = trigger.get("type")
        if not kind:
            return {}
        initial: dict[str, Any] = {"trigger_type": kind}
        for setting in SETTINGS_FIELDS.get(kind, ()):
            value = trigger.get(setting)
            initial[f"{kind}_{setting}"] = (
                ", ".join(value or []) if setting == "keywords" else value
            )
        return initial

    def trigger(self) -> dict[str, Any]:
        kind = self.cleaned_data["trigger_type"]
        data: dict[str, Any] = {"type": kind}
        for setting in SETTINGS_FIELDS.get(kind, ()):
            data[setting] = self.cleaned_data.get(f"{kind}_{setting}")
        return data

    def field_for(self, path: str) -> str | None:
        if path == "name":
            return "name"
        if not path.startswith("trigger"):
            return None
        kind = self.data.get(self.add_prefix("trigger_type"), "")
        setting = path.removeprefix("trigger").removeprefix(".")
        name = f"{kind}_{setting}"
        return name if setting and name in self.fields else "trigger_type"

    def cards(self) -> list[TriggerCard]:
        radios = {str(radio.data["value"]): radio for radio in self["trigger_type"]}
        return [
            TriggerCard(
                trigger=trigger,
                radio=radios[trigger.type],
                fields=[self[f"{trigger.type}_{s}"] for s in SETTINGS_FIELDS.get(trigger.type, ())],
            )
            for trigger in self.triggers
        ]


class NewAutomationForm(TriggerForm):
    name = forms.CharField(label="Name", max_length=MAX_NAME)
    field_order = ["name", "trigger_type"]
