"""What the rules and branches read of a set of contacts, in a fixed number of queries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from contacts.models import Contact, ContactTag
from messaging.models import Direction, Message
from messaging.services.rules import opted_out_numbers
from tenants.models import Organization


@dataclass
class ContactFacts:
    contacts: dict[int, Contact]
    tags: dict[int, set[str]]  # lower-cased names
    opted_out: set[int]  # contact ids
    # Inbound messages' times, per contact, from ``replies_since`` on (branches, exits).
    replies: dict[int, list[datetime.datetime]] = field(default_factory=dict)

    def has_tag(self, contact_id: int, name: str) -> bool:
        return name.lower() in self.tags.get(contact_id, set())

    def field_equals(self, contact_id: int, key: str, expected: str) -> bool:
        """Custom field equality as a marketer means it: case and surrounding spaces aside."""
        contact = self.contacts.get(contact_id)
        value = str(contact.custom_fields.get(key, "")) if contact else ""
        return value.strip().casefold() == str(expected).strip().casefold()

    def replied_since(self, contact_id: int, since: datetime.datetime) -> bool:
        return any(at >= since for at in self.replies.get(contact_id, ()))


def contact_facts(
    organization: Organization,
    contact_ids: Collection[int],
    *,
    replies_since: datetime.datetime | None = None,
) -> ContactFacts:
    """The contacts (rows for the renderer), their tags, who is opted out and, when asked,
    their replies since a time: 3 queries, 4 with replies."""
    contacts = {
        c.pk: c
        for c in Contact.objects.filter(organization=organization, pk__any=list(contact_ids))
    }
    tags: dict[int, set[str]] = defaultdict(set)
    for contact_id, name in ContactTag.objects.filter(contact_id__any=list(contacts)).values_list(
        "contact_id", "tag__name"
    ):
        tags[contact_id].add(name.lower())
    out = opted_out_numbers(organization, {c.phone for c in contacts.values()})
    facts = ContactFacts(
        contacts=contacts,
        tags=dict(tags),
        opted_out={pk for pk, c in contacts.items() if c.phone in out},
    )
    if replies_since is not None:
        replies: dict[int, list[datetime.datetime]] = defaultdict(list)
        for contact_id, at in Message.objects.filter(
            organization=organization,
            contact_id__any=list(contacts),
            direction=Direction.INBOUND,
            created_at__gte=replies_since,
        ).values_list("contact_id", "created_at"):
            replies[contact_id].append(at)
        facts.replies = dict(replies)
    return facts


def entry_refusal(rules: Mapping[str, Any], facts: ContactFacts, contact_id: int) -> str:
    """Why the entry rules refuse this contact, in words, or "" when they let it in."""
    tags = facts.tags.get(contact_id, set())
    missing = [t for t in rules.get("has_all_tags", []) if t.lower() not in tags]
    if missing:
        return f"lacks the tag {missing[0]}"
    wanted = rules.get("has_any_tags", [])
    if wanted and not any(t.lower() in tags for t in wanted):
        return "has none of the tags " + ", ".join(wanted)
    present = [t for t in rules.get("lacks_tags", []) if t.lower() in tags]
    if present:
        return f"has the tag {present[0]}"
    for key, expected in (rules.get("custom_fields") or {}).items():
        if not facts.field_equals(contact_id, key, expected):
            return f"{key} is not “{expected}”"
    return ""


def condition_holds(
    condition: Mapping[str, Any],
    facts: ContactFacts,
    contact_id: int,
    *,
    since: datetime.datetime,
    last_status: str,
) -> bool:
    """A branch's condition for an enrolment begun at ``since`` whose last message is in
    ``last_status`` (or "" for none)."""
    [(kind, arg)] = condition.items()
    if kind == "has_tag":
        return facts.has_tag(contact_id, arg)
    if kind == "lacks_tag":
        return not facts.has_tag(contact_id, arg)
    if kind == "custom_field":
        return facts.field_equals(contact_id, arg["key"], arg["equals"])
    if kind == "replied":
        return facts.replied_since(contact_id, since) is bool(arg)
    return last_status in arg
