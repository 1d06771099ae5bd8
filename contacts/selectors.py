from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery

from contacts.models import ConsentEvent, ConsentState, Contact, Tag
from contacts.services.phones import phone_normalize
from contacts.services.tags import reserved_tag
from tenants.errors import ApplicationError
from tenants.models import Organization

SORTS = {
    "newest": ("-created_at", "-pk"),
    "oldest": ("created_at", "pk"),
    "name": ("last_name", "first_name", "pk"),
    "-name": ("-last_name", "-first_name", "-pk"),
    "phone": ("phone", "pk"),
}


@dataclass(frozen=True)
class ContactFilter:
    q: str = ""
    tag: str = ""
    opted_out: bool | None = None
    sort: str = "newest"


def _opted_out_states(organization: Organization) -> QuerySet[ConsentState]:
    return ConsentState.objects.filter(
        organization=organization, phone=OuterRef("phone"), opted_out=True
    )


def contacts_with_consent(organization: Organization) -> QuerySet[Contact]:
    """The organization's contacts with ``opted_out`` / ``opted_out_at`` and tags, in 3 queries
    for any page size (contacts, their tags)."""
    states = _opted_out_states(organization)
    return (
        Contact.objects.filter(organization=organization)
        .annotate(
            opted_out=Exists(states),
            opted_out_at=Subquery(states.values("opted_out_at")[:1]),
        )
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )


def contacts_search(organization: Organization, filters: ContactFilter) -> QuerySet[Contact]:
    contacts = contacts_with_consent(organization)
    q = filters.q.strip()
    if q:
        try:
            phone = phone_normalize(q, organization.default_country)
        except ApplicationError:
            phone = ""
        if phone:
            contacts = contacts.filter(phone=phone)
        else:
            # Part of a number, written with its punctuation, is searched as its digits.
            looks_like_number = all(ch.isdigit() or ch in "+-(). " for ch in q)
            needle = "".join(ch for ch in q if ch.isdigit()) if looks_like_number else q
            contacts = contacts.filter(search__contains=needle.lower())
    if filters.tag:
        contacts = contacts.filter(tags__name__iexact=filters.tag)
    if filters.opted_out is not None:
        on_list = Exists(_opted_out_states(organization))
        contacts = contacts.filter(on_list if filters.opted_out else ~on_list)
    return contacts.order_by(*SORTS.get(filters.sort, SORTS["newest"]))


def organization_tags(organization: Organization) -> QuerySet[Tag]:
    """Every tag of the organization, the reserved opt-out tag included (it always exists)."""
    reserved_tag(organization)
    return Tag.objects.filter(organization=organization).order_by("name")


def consent_state_of(organization: Organization, phone: str) -> ConsentState | None:
    return ConsentState.objects.filter(organization=organization, phone=phone).first()


def is_opted_out(organization: Organization, phone: str) -> bool:
    return ConsentState.objects.filter(
        organization=organization, phone=phone, opted_out=True
    ).exists()


def consent_history(organization: Organization, phone: str) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(organization=organization, phone=phone).select_related(
        "user"
    )
