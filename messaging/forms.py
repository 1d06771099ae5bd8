from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms

from contacts.models import Contact
from messaging.models import Direction, Status
from messaging.selectors import MessageFilter
from templates_sms.models import SmsTemplate
from templates_sms.segments import MAX_TEXT
from tenants.models import Organization
from tenants.sources import Source


class PublicIdChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A choice by public id: a malformed id is an invalid choice like a missing one."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            uuid.UUID(str(value))
        except ValueError:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None
        return super().to_python(value)


# The message log's date filters: days any database and time zone can represent.
FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2999, 12, 31)


class DateInput(forms.DateInput):
    input_type = "date"


class SendForm(forms.Form):
    template = forms.ChoiceField(label="Template", required=False)
    body = forms.CharField(
        label="…or your own text",
        required=False,
        max_length=MAX_TEXT,
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
        max_length=MAX_TEXT,
        initial="Test message from SMS Hub: your Twilio connection works.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MessageFilterForm(forms.Form):
    """The message log's filters, from the query string. Invalid values are reported and
    ignored: the other filters still apply."""

    status = forms.ChoiceField(label="Status", required=False)
    direction = forms.ChoiceField(
        label="Direction",
        required=False,
        choices=[("", "Both"), *Direction.choices],
    )
    template = PublicIdChoiceField(
        label="Template",
        required=False,
        queryset=SmsTemplate.objects.none(),
        to_field_name="public_id",
        empty_label="Any template",
    )
    contact = PublicIdChoiceField(
        required=False,
        queryset=Contact.objects.none(),
        to_field_name="public_id",
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That contact no longer exists."},
    )
    # An automation's messages: messaging knows automations only by the opaque source_ref
    # they put on their messages (the chip's name comes from the automations room).
    automation = forms.UUIDField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": "That is not an automation's id."},
    )
    since = forms.DateField(label="From", required=False, widget=DateInput)
    until = forms.DateField(label="To", required=False, widget=DateInput)
    attention = forms.BooleanField(label="Needs attention", required=False)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            ("", "Any status"),
            *Status.choices,
        ]
        template = self.fields["template"]
        template.queryset = SmsTemplate.objects.filter(  # type: ignore[attr-defined]
            organization=organization
        ).order_by("name")
        contact = self.fields["contact"]
        contact.queryset = Contact.objects.filter(organization=organization)  # type: ignore[attr-defined]

    def _clean_day(self, name: str) -> datetime.date | None:
        day: datetime.date | None = self.cleaned_data.get(name)
        if day is not None and not (FIRST_DAY <= day <= LAST_DAY):
            raise forms.ValidationError(
                f"Choose a day between {FIRST_DAY:%Y-%m-%d} and {LAST_DAY:%Y-%m-%d}."
            )
        return day

    def clean_since(self) -> datetime.date | None:
        return self._clean_day("since")

    def clean_until(self) -> datetime.date | None:
        return self._clean_day("until")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filters(self) -> MessageFilter:
        """The filters that are valid (call after ``is_valid``)."""
        data = getattr(self, "cleaned_data", {})
        automation = data.get("automation")
        return MessageFilter(
            status=data.get("status") or "",
            direction=data.get("direction") or "",
            template=data.get("template"),
            contact=data.get("contact"),
            source=Source.AUTOMATION if automation else "",
            source_ref=str(automation) if automation else "",
            since=data.get("since"),
            until=data.get("until"),
            attention=bool(data.get("attention")),
        )


class AttentionForm(forms.Form):
    """What a person decided about a message the sweeper could not settle."""

    choice = forms.ChoiceField(
        label="What happened to this message?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what happened to this message."},
    )

    def __init__(self, *args: Any, candidates: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["choice"].choices = [  # type: ignore[attr-defined]
            *((f"adopt:{sid}", f"Twilio sent it: it is {sid}") for sid in candidates),
            ("resend", "Twilio never sent it: send it again"),
            ("cancel", "Do not send it"),
        ]

    def decision(self) -> tuple[str, str]:
        """(action, sid) for message_attention_resolve."""
        action, _, sid = self.cleaned_data["choice"].partition(":")
        return action, sid
