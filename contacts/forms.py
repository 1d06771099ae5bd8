from __future__ import annotations

from typing import Any

from django import forms

from contacts.models import Contact
from tenants.forms import time_zone_choices


def parse_tags(value: str) -> list[str]:
    return [name.strip() for name in (value or "").split(",") if name.strip()]


def parse_custom_fields(value: str) -> dict[str, str]:
    """``key: value`` lines → a dict (the service validates keys and values)."""
    fields: dict[str, str] = {}
    for number, line in enumerate((value or "").splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, rest = line.partition(":")
        if not sep:
            raise forms.ValidationError(f"Line {number}: write each field as name: value.")
        fields[key.strip()] = rest.strip()
    return fields


class ContactForm(forms.Form):
    phone = forms.CharField(
        label="Phone",
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text="Any usual format; without a +country code it is read with your "
        "organization's country.",
    )
    first_name = forms.CharField(label="First name", max_length=100, required=False)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)
    email = forms.CharField(label="Email", max_length=254, required=False)
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Leave on “Guess” to use the number's time zone (or the organization's).",
    )
    tags = forms.CharField(
        label="Tags", required=False, help_text="Comma-separated, such as vip, newsletter."
    )
    custom_fields = forms.CharField(
        label="Custom fields",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One per line as name: value, such as plan: gold or renewal_date: 2027-01-31. "
        "Use them in templates as {{ custom.plan }}.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", "Guess"), *time_zone_choices()]  # type: ignore[attr-defined]

    @classmethod
    def for_contact(cls, contact: Contact) -> ContactForm:
        return cls(
            initial={
                "phone": contact.phone,
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "email": contact.email,
                "time_zone": contact.time_zone,
                "tags": ", ".join(t.name for t in contact.tags.all() if not t.is_reserved),
                "custom_fields": "\n".join(f"{k}: {v}" for k, v in contact.custom_fields.items()),
            }
        )

    def clean_custom_fields(self) -> dict[str, str]:
        return parse_custom_fields(self.cleaned_data.get("custom_fields", ""))

    def clean_tags(self) -> list[str]:
        return parse_tags(self.cleaned_data.get("tags", ""))

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if not data.get("time_zone"):
            data.pop("time_zone", None)
        return data


class TagForm(forms.Form):
    name = forms.CharField(label="Tag", max_length=64)


class BulkTagForm(forms.Form):
    """Tags the checked contacts, or every contact matching the list's filters."""

    name = forms.CharField(label="Tag", max_length=64)
    scope = forms.ChoiceField(
        choices=[("selected", "Checked contacts"), ("matching", "All matching contacts")]
    )
