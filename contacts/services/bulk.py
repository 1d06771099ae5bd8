"""Contacts a thousand at a time (what an import writes), the rows checked beforehand by
``contacts.services.rows``.

``contacts_upsert_many`` writes up to 1,000 rows in a few queries whatever their number: the
contacts already there (one query), the numbers on the do-not-text list (one), one insert of
the new contacts, one update per set of changed fields, the tags (two or three queries), the
import opt-ins of the consent ledger (one insert). A number that opted out stays opted out:
its contact is written, but gains no tag and no opt-in.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db import connection as db
from django.db.models.functions import Lower
from django.utils import timezone

from contacts import signals
from contacts.models import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    Contact,
    ContactTag,
    ExistingContacts,
    Tag,
    search_text,
)
from contacts.services.contacts import MAX_CUSTOM_FIELDS
from contacts.services.outbound import contacts_created_record
from contacts.services.rows import ContactRow
from contacts.services.tags import reserved_tag
from tenants.bulk_insert import insert
from tenants.errors import ApplicationError
from tenants.models import Organization, User


@dataclass
class Upserted:
    """What ``contacts_upsert_many`` did, row by row (in the order given)."""

    outcomes: list[str] = field(default_factory=list)  # created | updated | unchanged
    contact_ids: list[int] = field(default_factory=list)
    opted_out: list[bool] = field(default_factory=list)
    tags_added: list[list[int]] = field(default_factory=list)  # tag ids, by row


def _merged(contact: Contact, row: ContactRow, policy: str) -> tuple[dict[str, Any], list[str]]:
    """The fields to write on an existing contact, and their names as events name them."""
    fields: dict[str, Any] = {}
    for name in ("first_name", "last_name", "email", "time_zone"):
        new = getattr(row, name)
        current = getattr(contact, name)
        if new and new != current and (policy == ExistingContacts.OVERWRITE or not current):
            fields[name] = new
    before: dict[str, str] = dict(contact.custom_fields or {})
    after = dict(before)
    for key, value in row.custom_fields.items():
        if policy == ExistingContacts.OVERWRITE or not before.get(key):
            after[key] = value
    changed = [f"custom.{k}" for k in sorted(after) if before.get(k) != after.get(k)]
    if changed:
        if len(after) > MAX_CUSTOM_FIELDS:
            raise ApplicationError.for_field(
                "custom_fields", f"A contact has at most {MAX_CUSTOM_FIELDS} custom fields."
            )
        fields["custom_fields"] = after
    return fields, [n for n in fields if n != "custom_fields"] + changed


def contact_row_stored(contact: Contact, row: ContactRow, existing: str) -> ContactRow:
    """What an existing contact holds once ``contacts_upsert_many`` has written this row to it
    under the ``existing`` policy (for a preview): its own values where the policy keeps them,
    and the row's tags unless it is left as it is."""
    if existing == ExistingContacts.SKIP:
        fields: dict[str, Any] = {}
        tags: list[str] = []
    else:
        fields, tags = _merged(contact, row, existing)[0], list(row.tags)
    return ContactRow(
        phone=contact.phone,
        first_name=fields.get("first_name", contact.first_name),
        last_name=fields.get("last_name", contact.last_name),
        email=fields.get("email", contact.email),
        time_zone=fields.get("time_zone", contact.time_zone),
        custom_fields=dict(fields.get("custom_fields", contact.custom_fields or {})),
        tags=tags,
    )


def _tags(organization: Organization, names: Collection[str]) -> dict[str, Tag]:
    """The organization's tags of these names (by lower-cased name), made if new."""
    wanted = {n.lower(): n for n in names}
    if not wanted:
        return {}

    def found() -> dict[str, Tag]:
        tags = Tag.objects.annotate(key=Lower("name")).filter(
            organization=organization, key__in=list(wanted)
        )
        return {t.name.lower(): t for t in tags}

    tags = found()
    missing = [Tag(organization=organization, name=n) for k, n in wanted.items() if k not in tags]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        tags = found()
    return tags


NEW_CONTACT = (
    "public_id",
    "phone",
    "first_name",
    "last_name",
    "email",
    "time_zone",
    "custom_fields",
    "search",
)


def _insert_new(organization: Organization, rows: Sequence[ContactRow]) -> dict[str, int]:
    """The new contacts in one statement; their ids by number."""
    values = []
    for row in rows:
        values.append(
            [
                uuid.uuid4(),
                row.phone,
                row.first_name,
                row.last_name,
                row.email,
                row.zone(organization),
                row.custom_fields,
                search_text(row.first_name, row.last_name, row.email, row.phone),
            ]
        )
    prototype = Contact(organization=organization)
    if db.features.can_return_rows_from_bulk_insert:
        return dict(insert(Contact, prototype, NEW_CONTACT, values, returning=("phone", "id")))
    insert(Contact, prototype, NEW_CONTACT, values)
    return dict(
        Contact.objects.filter(
            organization=organization, phone__in=[r.phone for r in rows]
        ).values_list("phone", "pk")
    )


@transaction.atomic
def contacts_upsert_many(
    *,
    organization: Organization,
    rows: Sequence[ContactRow],
    source: str,
    existing: str = ExistingContacts.FILL_EMPTY,
    tags: Sequence[str] = (),
    consent: bool = False,
    user: User | None = None,
    actor: str = "",
    automations: bool = True,
    later_rows: Collection[str] = (),
) -> Upserted:
    """Creates or updates a contact per row (numbers distinct, at most 1,000), adds ``tags``
    and each row's own, and with ``consent`` records an import opt-in in the ledger; announces
    ``contact_created``, ``contact_updated`` and ``tag_added`` (with ``automations=False``:
    the change is announced but fires no automation). ``existing``: what an existing contact
    gets (``ExistingContacts``); the numbers of ``later_rows`` get the row's values whatever
    the policy (a later row of the same file wins over an earlier one)."""
    phones = [row.phone for row in rows]
    if len(set(phones)) != len(phones):
        raise ValueError("contacts_upsert_many takes each number once")

    def known() -> dict[str, Contact]:
        found = Contact.objects.filter(organization=organization, phone__in=phones)
        return {c.phone: c for c in found}

    by_phone = known()
    try:
        with transaction.atomic():
            created = _insert_new(organization, [r for r in rows if r.phone not in by_phone])
    except IntegrityError:  # a number was created meanwhile (by a person): it is an existing one
        by_phone = known()
        created = _insert_new(organization, [r for r in rows if r.phone not in by_phone])
    out = set(
        ConsentState.objects.filter(
            organization=organization, phone__in=phones, opted_out=True
        ).values_list("phone", flat=True)
    )
    now = timezone.now()
    result = Upserted()
    updates: dict[tuple[str, ...], list[Contact]] = defaultdict(list)
    changes: dict[tuple[str, ...], list[int]] = defaultdict(list)
    wanted_tags: dict[int, list[str]] = {}
    for row in rows:
        later = row.phone in later_rows
        if row.phone in created:
            contact_id, outcome = created[row.phone], "created"
        else:
            contact = by_phone[row.phone]
            contact_id, outcome = contact.pk, "unchanged"
            if existing == ExistingContacts.SKIP and not later:
                result.outcomes.append(outcome)
                result.contact_ids.append(contact_id)
                result.opted_out.append(row.phone in out)
                continue
            fields, names = _merged(contact, row, ExistingContacts.OVERWRITE if later else existing)
            if fields:
                for name, value in fields.items():
                    setattr(contact, name, value)
                contact.search, contact.updated_at = contact.search_text(), now
                updates[tuple(sorted(fields))].append(contact)
                changes[tuple(names)].append(contact_id)
                outcome = "updated"
        if row.phone not in out:
            wanted_tags[contact_id] = [*tags, *row.tags]
        result.outcomes.append(outcome)
        result.contact_ids.append(contact_id)
        result.opted_out.append(row.phone in out)
    for columns, contacts in updates.items():
        Contact.objects.bulk_update(contacts, [*columns, "search", "updated_at"])
    added = _tags_add(organization, wanted_tags)
    for index, contact_id in enumerate(result.contact_ids):
        result.tags_added.append([t.pk for t in added.get(contact_id, [])])
        if result.tags_added[-1] and result.outcomes[index] == "unchanged":
            result.outcomes[index] = "updated"
    reserved = reserved_tag(organization)
    links = [(pk, reserved.pk) for phone, pk in created.items() if phone in out]
    insert(ContactTag, ContactTag(), ("contact_id", "tag_id"), links, ignore_conflicts=True)
    if consent:
        opt_in = ConsentEvent(
            organization=organization,
            kind=ConsentKind.OPT_IN,
            source=ConsentSource.IMPORT,
            user=user,
            actor=actor or (user.get_full_name() if user else ""),
        )
        opt_ins = [
            (uuid.uuid4(), row.phone, contact_id)
            for row, contact_id in zip(rows, result.contact_ids, strict=True)
            if row.phone not in out
        ]
        insert(ConsentEvent, opt_in, ("public_id", "phone", "contact_id"), opt_ins)
    _announce(organization, result, changes, added, source=source, automations=automations)
    contacts_created_record(
        organization=organization,
        contact_ids=[
            pk for pk, o in zip(result.contact_ids, result.outcomes, strict=True) if o == "created"
        ],
    )
    return result


def _tags_add(organization: Organization, wanted: Mapping[int, list[str]]) -> dict[int, list[Tag]]:
    """Links the tags each contact lacks; returns the tags added, by contact."""
    tags = _tags(organization, {n for names in wanted.values() for n in names})
    have = set(
        ContactTag.objects.filter(
            contact_id__in=list(wanted), tag_id__in=[t.pk for t in tags.values()]
        ).values_list("contact_id", "tag_id")
    )
    added: dict[int, list[Tag]] = defaultdict(list)
    links = []
    for contact_id, names in wanted.items():
        for tag in dict.fromkeys(tags[n.lower()] for n in names):
            if (contact_id, tag.pk) not in have:
                have.add((contact_id, tag.pk))
                added[contact_id].append(tag)
                links.append((contact_id, tag.pk))
    insert(ContactTag, ContactTag(), ("contact_id", "tag_id"), links)
    return added


def _announce(
    organization: Organization,
    result: Upserted,
    changes: Mapping[tuple[str, ...], list[int]],
    added: Mapping[int, list[Tag]],
    *,
    source: str,
    automations: bool,
) -> None:
    quiet = {} if automations else {"automations": False}
    made = [pk for pk, o in zip(result.contact_ids, result.outcomes, strict=True) if o == "created"]
    signals.emit_after_commit(
        signals.contact_created,
        organization_id=organization.pk,
        contact_ids=made,
        source=source,
        **quiet,
    )
    for names, contact_ids in changes.items():
        signals.emit_after_commit(
            signals.contact_updated,
            organization_id=organization.pk,
            contact_ids=contact_ids,
            source=source,
            fields=list(names),
        )
    by_tag: dict[Tag, list[int]] = defaultdict(list)
    for contact_id, tags in added.items():
        for tag in tags:
            by_tag[tag].append(contact_id)
    for tag, contact_ids in by_tag.items():
        signals.emit_after_commit(
            signals.tag_added,
            organization_id=organization.pk,
            contact_ids=contact_ids,
            source=source,
            tag_id=tag.pk,
            tag_name=tag.name,
            **quiet,
        )
