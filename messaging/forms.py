from __future__ import annotations

from typing import Any

from django import forms

from templates_sms.models import SmsTemplate
from tenants.models import Organization


class SendForm(forms.Form):
    template = forms.ChoiceField(label="Template", required=False)
    body = forms.CharField(
        label="…or your own text",
        required=False,
        max_length=1600,
        widget=forms.Textarea(attrs={"rows": 4, "data-sms-body": ""}),
    )
    respect_quiet_hours = forms.BooleanField(
        label="Wait for the sending window if it is quiet hours for the contact",
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        templates = SmsTemplate.objects.filter(organization=organization).order_by("name")
        self.templates = {str(t.public_id): t for t in templates}
        self.fields["template"].choices = [  # type: ignore[attr-defined]
            ("", "No template: write below"),
            *((key, t.name) for key, t in self.templates.items()),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if not data.get("template") and not (data.get("body") or "").strip():
            raise forms.ValidationError("Choose a template or write a message.")
        return data

    def chosen_template(self) -> SmsTemplate | None:
        return self.templates.get(self.cleaned_data.get("template") or "")


class TestSendForm(forms.Form):
    to = forms.CharField(
        label="Send to",
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
        help_text="Your own mobile number, in any usual format.",
    )
    body = forms.CharField(
        label="Text",
        max_length=1600,
        initial="Test message from SMS Hub: your Twilio connection works.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
