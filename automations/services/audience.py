"""Who a launch goes to, in SQL: the audience (or any rules of the entry rules' shape) as a
filter on the organization's contacts, decided the way ``facts.entry_refusal`` decides it for
one contact (tags whatever their case; a custom field equal once trimmed, whatever its case)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Lower, Trim
from django.db.models.lookups import Exact

from contacts.models import Contact, ContactTag, Tag
from tenants.models import Organization


def _tag_ids(organization: Organization, names: list[str]) -> dict[str, int]:
    wanted = {name.lower() for name in names}
    found = Tag.objects.filter(organization=organization).annotate(lower=Lower("name"))
    return dict(found.filter(lower__in=wanted).values_list("lower", "pk"))


def _tagged(tag_ids: list[int]) -> Q:
    return Q(Exists(ContactTag.objects.filter(contact=OuterRef("pk"), tag_id__in=tag_ids)))


def rules_filter(organization: Organization, rules: Mapping[str, Any]) -> Q:
    """The contacts the rules let in (``Q()``: everyone)."""
    every = [*rules.get("has_all_tags", []), *rules.get("has_any_tags", [])]
    ids = _tag_ids(organization, [*every, *rules.get("lacks_tags", [])])
    nobody = Q(pk__in=[])
    q = Q()
    for name in rules.get("has_all_tags", []):
        q &= _tagged([ids[name.lower()]]) if name.lower() in ids else nobody
    if wanted := rules.get("has_any_tags"):
        found = [ids[n.lower()] for n in wanted if n.lower() in ids]
        q &= _tagged(found) if found else nobody
    if found := [ids[n.lower()] for n in rules.get("lacks_tags", []) if n.lower() in ids]:
        q &= ~_tagged(found)
    for key, expected in (rules.get("custom_fields") or {}).items():
        value = Lower(
            Trim(
                Coalesce(
                    KeyTextTransform(key, "custom_fields"), Value(""), output_field=TextField()
                )
            )
        )
        q &= Q(Exact(value, str(expected).strip().lower()))
    return q


def audience_contacts(organization: Organization, audience: Mapping[str, Any]) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(organization=organization)
    if audience.get("all"):
        return contacts
    return contacts.filter(rules_filter(organization, audience))
