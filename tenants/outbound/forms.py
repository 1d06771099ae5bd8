from __future__ import annotations

from typing import Any

from django import forms

from tenants.outbound.models import EventType


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="Where SMS Hub posts the events: a public https:// address of your system.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/sms-hub"}),
    )
    description = forms.CharField(
        label="Description",
        max_length=200,
        required=False,
        help_text="What this endpoint is for, for the people who manage it.",
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(t.value, f"{t.value} — {t.label}") for t in EventType],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event type."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["url"].widget.attrs.setdefault("autocomplete", "url")
