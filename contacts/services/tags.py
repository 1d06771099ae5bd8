from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from contacts import signals
from contacts.models import OPT_OUT_TAG, Contact, ContactTag, Tag, is_reserved_tag
from tenants.errors import ApplicationError
from tenants.models import Organization

TAG_NAME = re.compile(r"^[\w .\-]{1,64}$")  # \w: letters of any alphabet, digits, _
RESERVED_MESSAGE = (
    f"“{OPT_OUT_TAG}” is kept for opt-outs: it is added when someone replies STOP and removed "
    "when they reply START. Use Opt out / Opt in instead."
)


def tag_name_clean(name: str, *, allow_reserved: bool = False) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ApplicationError.for_field("tags", "A tag needs a name.")
    if not TAG_NAME.match(cleaned):
        raise ApplicationError.for_field(
            "tags",
            f"“{cleaned[:64]}”: tag names have letters, digits, spaces, -, _ and . only "
            "(64 at most).",
        )
    if is_reserved_tag(cleaned) and not allow_reserved:
        raise ApplicationError(
            "Tags cannot include the opt-out tag.",
            code="reserved_tag",
            fields={"tags": [RESERVED_MESSAGE]},
        )
    return cleaned


def tag_names_clean(names: Iterable[str]) -> list[str]:
    """Distinct names (first spelling wins, case-insensitively), in the order given."""
    seen: dict[str, str] = {}
    for name in names:
        cleaned = tag_name_clean(name)
        seen.setdefault(cleaned.lower(), cleaned)
    return list(seen.values())


def tag_get_or_create(*, organization: Organization, name: str) -> Tag:
    """The organization's tag of that name in any case, created with this spelling if new."""
    existing = Tag.objects.filter(organization=organization, name__iexact=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Tag.objects.create(organization=organization, name=name)
    except IntegrityError:  # created meanwhile by another request
        return Tag.objects.get(organization=organization, name__iexact=name)


def reserved_tag(organization: Organization) -> Tag:
    return tag_get_or_create(organization=organization, name=OPT_OUT_TAG)


def contact_tags_add(*, contact: Contact, names: Iterable[str], source: str) -> list[str]:
    """Adds tags by name; returns the names actually added (already there: not again)."""
    added: list[str] = []
    for name in tag_names_clean(names):
        tag = tag_get_or_create(organization=contact.organization, name=name)
        _link, created = ContactTag.objects.get_or_create(contact=contact, tag=tag)
        if created:
            added.append(tag.name)
            signals.emit_after_commit(
                signals.tag_added,
                organization_id=contact.organization_id,
                contact_ids=[contact.pk],
                source=source,
                tag_id=tag.pk,
                tag_name=tag.name,
            )
    return added


def contact_tags_remove(*, contact: Contact, names: Iterable[str], source: str) -> list[str]:
    removed: list[str] = []
    for name in tag_names_clean(names):
        tag = Tag.objects.filter(organization=contact.organization, name__iexact=name).first()
        if tag is None:
            continue
        deleted, _ = ContactTag.objects.filter(contact=contact, tag=tag).delete()
        if deleted:
            removed.append(tag.name)
            signals.emit_after_commit(
                signals.tag_removed,
                organization_id=contact.organization_id,
                contact_ids=[contact.pk],
                source=source,
                tag_id=tag.pk,
                tag_name=tag.name,
            )
    return removed


def contact_tags_set(*, contact: Contact, names: Iterable[str], source: str) -> None:
    """Replaces the contact's tags (the reserved opt-out tag is left as consent set it)."""
    wanted = {n.lower(): n for n in tag_names_clean(names)}
    current = {t.name.lower(): t.name for t in contact.tags.all() if not is_reserved_tag(t.name)}
    contact_tags_remove(
        contact=contact, names=[n for k, n in current.items() if k not in wanted], source=source
    )
    contact_tags_add(
        contact=contact, names=[n for k, n in wanted.items() if k not in current], source=source
    )


BULK_BATCH = 1000


@transaction.atomic
def contacts_tag_bulk_add(
    *, organization: Organization, contacts: QuerySet[Contact], name: str, source: str
) -> int:
    """Tags every contact of a filtered selection; returns how many gained the tag."""
    tag = tag_get_or_create(organization=organization, name=tag_name_clean(name))
    missing = list(
        contacts.filter(organization=organization)
        .exclude(contacttag__tag=tag)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(missing), BULK_BATCH):
        ContactTag.objects.bulk_create(
            [ContactTag(contact_id=pk, tag=tag) for pk in missing[start : start + BULK_BATCH]],
            ignore_conflicts=True,
        )
    signals.emit_after_commit(
        signals.tag_added,
        organization_id=organization.pk,
        contact_ids=missing,
        source=source,
        tag_id=tag.pk,
        tag_name=tag.name,
    )
    return len(missing)
