from __future__ import annotations

import functools
import zoneinfo
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from phonenumbers import geocoder

from tenants.client_address import client_address
from tenants.models import (
    API_KEY_ROLES,
    ORGANIZATION_SETTINGS,
    ROLE_DESCRIPTIONS,
    Organization,
    Role,
)
from tenants.services.accounts import login_failure_record, login_throttled


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


@functools.cache
def country_choices() -> list[tuple[str, str]]:
    def label(region: str) -> str:
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        return f"{name or region} (+{phonenumbers.country_code_for_region(region)})"

    return sorted(
        ((region, label(region)) for region in phonenumbers.SUPPORTED_REGIONS),
        key=lambda choice: choice[1],
    )


def role_help(roles: list[Role]) -> str:
    return " ".join(
        f"{r.label}: {ROLE_DESCRIPTIONS[r][0].lower()}{ROLE_DESCRIPTIONS[r][1:]}" for r in roles
    )


class EmailLoginForm(AuthenticationForm):
    """Django's login form, with the email as username and throttling of repeated failures."""

    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        # Emails are matched without regard to case; only the password is case-sensitive.
        "invalid_login": "Please enter a correct email and password.",
        "throttled": (
            "Too many failed attempts. Wait 15 minutes and try again, or reset your password."
        ),
    }

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request is not None else None
        if email and login_throttled(email=email, address=address):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            if email:
                login_failure_record(email=email, address=address)
            raise


class SignupForm(forms.Form):
    full_name = forms.CharField(
        label="Your name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label="Work email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not a common password and not all digits.",
    )
    organization_name = forms.CharField(label="Organization name", max_length=120)
    time_zone = forms.ChoiceField(label="Time zone", choices=time_zone_choices, initial="UTC")
    default_country = forms.ChoiceField(
        label="Country for phone numbers",
        choices=country_choices,
        initial="US",
        help_text="Numbers written without a +country code are read as this country's.",
    )


class InvitedSignupForm(forms.Form):
    """Creating an account to accept an invitation: the email is the invited one."""

    full_name = SignupForm.base_fields["full_name"]
    password = SignupForm.base_fields["password"]


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(label="Organization name", max_length=120)
    time_zone = forms.ChoiceField(label="Time zone", choices=time_zone_choices, initial="UTC")
    default_country = SignupForm.base_fields["default_country"]


class OrganizationSettingsForm(forms.ModelForm[Organization]):
    time_zone = forms.ChoiceField(choices=time_zone_choices)
    default_country = forms.ChoiceField(label="Country for phone numbers", choices=country_choices)

    class Meta:
        model = Organization
        fields = ORGANIZATION_SETTINGS
        labels = {
            "send_window_start": "Send from",
            "send_window_end": "Send until",
            "frequency_cap": "Frequency cap",
            "help_reply": "HELP reply",
            "message_retention_days": "Keep messages for (days)",
            "api_rate_limit": "Requests per second",
            "api_burst": "Burst",
        }
        help_texts = {"send_window_start": "", "send_window_end": ""}
        widgets = {
            "send_window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "send_window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "help_reply": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rate, burst = self.fields["api_rate_limit"], self.fields["api_burst"]
        rate.help_text = f"Each API key's steady rate. Empty: {settings.API_RATE_LIMIT}."
        burst.help_text = f"Requests each API key may make at once. Empty: {settings.API_BURST}."
        rate.widget.attrs["placeholder"] = str(settings.API_RATE_LIMIT)
        burst.widget.attrs["placeholder"] = str(settings.API_BURST)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        start, end = data.get("send_window_start"), data.get("send_window_end")
        if start is not None and start == end:
            self.add_error("send_window_end", "The sending window cannot be empty.")
        return data


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", initial=Role.MARKETER)

    def __init__(self, *args: Any, can_grant_owner: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = [r for r in Role if can_grant_owner or r != Role.OWNER]
        self.fields["role"].choices = [(r.value, r.label) for r in roles]  # type: ignore[attr-defined]
        self.fields["role"].help_text = role_help(roles)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80, help_text="Where the key is used.")
    role = forms.ChoiceField(
        label="Role",
        choices=[(r.value, r.label) for r in API_KEY_ROLES],
        initial=Role.ADMIN,
        help_text=role_help(list(API_KEY_ROLES)),
    )


class DeleteOrganizationForm(forms.Form):
    confirmation = forms.CharField(label="Organization name", max_length=120)
