from __future__ import annotations

from django import forms

CODE_ATTRS = {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"}


class CodeForm(forms.Form):
    """A code from the authenticator app (confirming it, or for new recovery codes)."""

    code = forms.CharField(
        label="6-digit code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={**CODE_ATTRS, "inputmode": "numeric"}),
        help_text="The code your authenticator app shows for SMS Hub now.",
    )


class SignInCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={**CODE_ATTRS, "autofocus": True}),
        help_text="The 6 digits your authenticator app shows, or one of your recovery codes.",
    )


class DisableForm(forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs=CODE_ATTRS),
        help_text="From your authenticator app, or one of your recovery codes.",
    )


class RequireTwoFactorForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label="Require two-factor sign-in of everyone in this organization",
        required=False,
        help_text="Members without it are asked to turn it on before they can open any page "
        "of this organization. API keys are not affected.",
    )
