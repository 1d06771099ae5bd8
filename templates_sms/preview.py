"""The text a contact would receive, and what it costs: for the editor, the API and senders."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F
from django.db.models.expressions import Combinable
from django.db.models.fields.json import KT
from django.db.models.functions import Length

from contacts.models import Contact
from templates_sms.renderer import template_fields, template_render
from templates_sms.segments import SegmentInfo, count_segments
from tenants.models import Organization

SAMPLE = {
    "first_name": "Alex",
    "last_name": "Morgan",
    "phone": "+14155550123",
    "email": "alex@example.com",
}


def contact_values(contact: Contact | None, organization: Organization) -> dict[str, str]:
    """Merge-field values for a contact (or the sample contact)."""
    values = (
        dict(SAMPLE)
        if contact is None
        else {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "phone": contact.phone,
            "email": contact.email,
        }
    )
    values["organization.name"] = organization.name
    if contact is not None:
        values.update({f"custom.{k}": str(v) for k, v in contact.custom_fields.items()})
    return values


def message_text(
    *, body: str, append_footer: bool, organization: Organization, values: dict[str, str]
) -> str:
    """The rendered body, with the organization's opt-out footer when the template asks."""
    text = template_render(body, values).strip()
    footer = organization.opt_out_footer.strip()
    if append_footer and footer:
        text = f"{text}\n{footer}" if text else footer
    return text


def worst_case_values(organization: Organization, body: str) -> dict[str, str]:
    """For each merge field used, the longest value any of the organization's contacts has."""
    values = contact_values(None, organization)
    contacts = Contact.objects.filter(organization=organization)
    for merge_field in template_fields(body):
        name = merge_field.name
        if name == "organization.name":
            continue
        expression: Combinable = (
            KT(f"custom_fields__{name.partition('.')[2]}")
            if name.startswith("custom.")
            else F(name)
        )
        longest = (
            contacts.annotate(value=expression, size=Length(expression))
            .exclude(size=None)
            .order_by("-size")
            .values_list("value", flat=True)
            .first()
        )
        values[name] = str(longest) if longest else merge_field.fallback
    return values


@dataclass(frozen=True)
class Preview:
    text: str
    info: SegmentInfo
    worst_text: str
    worst: SegmentInfo


def template_preview(
    *,
    organization: Organization,
    body: str,
    append_footer: bool,
    contact: Contact | None = None,
) -> Preview:
    """Raises ApplicationError for a body with a bad merge field (so the editor can say so)."""
    template_fields(body)
    text = message_text(
        body=body,
        append_footer=append_footer,
        organization=organization,
        values=contact_values(contact, organization),
    )
    worst_text = message_text(
        body=body,
        append_footer=append_footer,
        organization=organization,
        values=worst_case_values(organization, body),
    )
    return Preview(text, count_segments(text), worst_text, count_segments(worst_text))
