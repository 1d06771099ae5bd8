from __future__ import annotations

from django import forms

from templates_sms.segments import MAX_TEXT


class TemplateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    body = forms.CharField(
        label="Message",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6, "data-sms-body": ""}),
        help_text="Merge fields: {{ first_name }}, {{ last_name }}, {{ phone }}, {{ email }}, "
        '{{ custom.plan }}, {{ organization.name }}; a fallback: {{ first_name|default:"there" }}.',
    )
    media_url = forms.CharField(
        label="Image or media URL (MMS)",
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text="A public https:// address of a picture to send with the text.",
    )
    append_opt_out_footer = forms.BooleanField(
        label="Add the opt-out footer",
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"data-sms-footer": ""}),
    )
