from __future__ import annotations

from django import forms

from connections.models import TwilioCredentials


class TwilioConnectForm(forms.Form):
    account_sid = forms.CharField(
        label="Account SID",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="In the Twilio Console, in the Account Info box on the dashboard. It starts "
        "with AC.",
    )
    auth_token = forms.CharField(
        label="Auth Token",
        required=False,
        max_length=64,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
        help_text="Next to the Account SID (choose Show to see it). It is checked with Twilio, "
        "stored encrypted, and never shown again.",
    )
    phone_number = forms.CharField(
        label="Sender phone number",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
        help_text="Use the same format shown in the Active numbers of your Twilio account "
        "(Phone Numbers → Manage → Active numbers), such as +1 415 555 0100; (415) 555-0100 "
        "works too.",
    )
    messaging_service_sid = forms.CharField(
        label="…or Messaging Service SID",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Instead of a number, send through a Messaging Service (Messaging → Services). "
        "It starts with MG.",
    )

    def __init__(self, *args: object, keeps_token: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # One of the two senders is needed; neither is "optional" on its own.
        for name in ("phone_number", "messaging_service_sid"):
            self.fields[name].hide_optional = True  # type: ignore[attr-defined]
        self.fields["auth_token"].required = not keeps_token
        if keeps_token:
            self.fields["auth_token"].help_text = (
                "Leave empty to keep the stored token (…shown on the connection page), as long "
                "as the Account SID stays the same."
            )


class SendRateForm(forms.ModelForm[TwilioCredentials]):
    class Meta:
        model = TwilioCredentials
        fields = ("send_rate",)
        labels = {"send_rate": "Send rate (segments per second)"}
