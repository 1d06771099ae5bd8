from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from contacts import signals
from contacts.models import ConsentState, Contact, ContactTag
from contacts.services.outbound import contacts_created_record
from contacts.services.phones import phone_normalize, phone_time_zone
from contacts.services.tags import contact_tags_add, contact_tags_set, reserved_tag
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Organization
from tenants.types import UNSET, Unset, given

CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_VALUE = 1000


def custom_fields_clean(raw: Mapping[str, Any] | None) -> dict[str, str]:
    """Keys usable as ``{{ custom.<key> }}``; values are strings, dates ISO ``YYYY-MM-DD``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ApplicationError.for_field("custom_fields", "Custom fields are key: value pairs.")
    if len(raw) > MAX_CUSTOM_FIELDS:
        raise ApplicationError.for_field(
            "custom_fields", f"A contact has at most {MAX_CUSTOM_FIELDS} custom fields."
        )
    cleaned: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not CUSTOM_KEY.match(key):
            raise ApplicationError.for_field(
                "custom_fields",
                f"“{key}”: a custom field name starts with a lower-case letter and has only "
                "lower-case letters, digits and _ (50 at most), such as plan or renewal_date.",
            )
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            value = value.isoformat()
        if not isinstance(value, str):
            raise ApplicationError.for_field(
                "custom_fields", f"“{key}”: values are text (write dates as YYYY-MM-DD)."
            )
        if len(value) > MAX_CUSTOM_VALUE:
            raise ApplicationError.for_field(
                "custom_fields", f"“{key}”: at most {MAX_CUSTOM_VALUE} characters."
            )
        cleaned[key] = value.strip()
    return cleaned


def _clean_fields(organization: Organization, data: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def check(name: str, run: Any) -> None:
        try:
            fields[name] = run()
        except ApplicationError as exc:
            for field, messages in (exc.fields or {name: [exc.message]}).items():
                errors.setdefault(field, []).extend(messages)

    if "phone" in data:
        check("phone", lambda: phone_normalize(data["phone"], organization.default_country))
    for name, limit in (("first_name", 100), ("last_name", 100)):
        if name in data:
            value = " ".join(str(data[name] or "").split())
            if len(value) > limit:
                errors[name] = [f"At most {limit} characters."]
            fields[name] = value
    if "email" in data:
        email = str(data["email"] or "").strip().lower()
        try:
            if email:
                validate_email(email)
        except ValidationError:
            errors["email"] = [f"“{email}” is not an email address."]
        fields["email"] = email
    if data.get("time_zone"):
        if data["time_zone"] not in zoneinfo.available_timezones():
            errors["time_zone"] = [
                f"“{data['time_zone']}” is not a time zone such as Europe/Paris."
            ]
        fields["time_zone"] = data["time_zone"]
    if "custom_fields" in data:
        check("custom_fields", lambda: custom_fields_clean(data["custom_fields"]))
    if errors:
        raise ApplicationError("Some contact details are not valid.", fields=errors)
    return fields


def _sync_opt_out_tag(contact: Contact) -> None:
    """The reserved tag follows the number's consent state (also for a number just changed)."""
    opted_out = ConsentState.objects.filter(
        organization_id=contact.organization_id, phone=contact.phone, opted_out=True
    ).exists()
    tag = reserved_tag(contact.organization)
    if opted_out:
        ContactTag.objects.get_or_create(contact=contact, tag=tag)
    else:
        ContactTag.objects.filter(contact=contact, tag=tag).delete()


def _duplicate(phone: str) -> ConflictError:
    return ConflictError(
        f"A contact with the number {phone} already exists.",
        code="duplicate_phone",
        fields={"phone": [f"A contact with the number {phone} already exists."]},
    )


@transaction.atomic
def contact_create(
    *,
    organization: Organization,
    source: str,
    phone: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    time_zone: str = "",
    custom_fields: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
) -> Contact:
    """A new contact. ``phone`` in any format; ``time_zone`` guessed from the number (else the
    organization's) when empty. A number that opted out before comes back opted out."""
    fields = _clean_fields(
        organization,
        {
            "phone": phone,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "time_zone": time_zone,
            "custom_fields": custom_fields or {},
        },
    )
    fields.setdefault("time_zone", phone_time_zone(fields["phone"]) or organization.time_zone)
    if Contact.objects.filter(organization=organization, phone=fields["phone"]).exists():
        raise _duplicate(fields["phone"])
    contact = Contact(organization=organization, **fields)
    contact.search = contact.search_text()
    try:
        with transaction.atomic():
            contact.save(force_insert=True)
    except IntegrityError as exc:  # created meanwhile by another request
        raise _duplicate(fields["phone"]) from exc
    _sync_opt_out_tag(contact)
    signals.emit_after_commit(
        signals.contact_created,
        organization_id=organization.pk,
        contact_ids=[contact.pk],
        source=source,
    )
    contact_tags_add(contact=contact, names=tags, source=source)
    contacts_created_record(organization=organization, contact_ids=[contact.pk])
    return contact


def _changed(contact: Contact, fields: Mapping[str, Any]) -> list[str]:
    """The names of the fields whose value changes; custom fields as ``custom.<key>``."""
    changed: list[str] = []
    for name, value in fields.items():
        if name == "custom_fields":
            before: dict[str, str] = contact.custom_fields or {}
            keys = sorted(set(before) | set(value))
            changed += [f"custom.{k}" for k in keys if before.get(k) != value.get(k)]
        elif getattr(contact, name) != value:
            changed.append(name)
    return changed


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    source: str,
    phone: str | Unset = UNSET,
    first_name: str | Unset = UNSET,
    last_name: str | Unset = UNSET,
    email: str | Unset = UNSET,
    time_zone: str | Unset = UNSET,
    custom_fields: Mapping[str, Any] | Unset | None = UNSET,
    tags: Iterable[str] | None = None,
) -> Contact:
    """Changes the fields given (``custom_fields`` replaces them all); ``tags``, when given,
    replaces the contact's tags. Announces ``contact_updated`` with what really changed."""
    organization = contact.organization
    fields = _clean_fields(
        organization,
        given(
            phone=phone,
            first_name=first_name,
            last_name=last_name,
            email=email,
            time_zone=time_zone,
            custom_fields=custom_fields,
        ),
    )
    phone_changed = "phone" in fields and fields["phone"] != contact.phone
    if phone_changed and (
        Contact.objects.filter(organization=organization, phone=fields["phone"])
        .exclude(pk=contact.pk)
        .exists()
    ):
        raise _duplicate(fields["phone"])
    changed = _changed(contact, fields)
    for name, value in fields.items():
        setattr(contact, name, value)
    if fields:
        contact.search = contact.search_text()
        contact.save(update_fields=[*fields, "search", "updated_at"])
    if phone_changed:
        _sync_opt_out_tag(contact)
    if changed:
        signals.emit_after_commit(
            signals.contact_updated,
            organization_id=organization.pk,
            contact_ids=[contact.pk],
            source=source,
            fields=changed,
        )
    if tags is not None:
        contact_tags_set(contact=contact, names=tags, source=source)
    return contact


@transaction.atomic
def contact_upsert(
    *,
    organization: Organization,
    phone: str,
    source: str,
    first_name: str | Unset = UNSET,
    last_name: str | Unset = UNSET,
    email: str | Unset = UNSET,
    time_zone: str | Unset = UNSET,
    custom_fields: Mapping[str, Any] | Unset | None = UNSET,
    tags: Iterable[str] = (),
) -> tuple[Contact, bool]:
    """By phone in any format: creates the contact, or updates the fields given and adds the
    tags given (what incoming webhooks and imports use). Returns (contact, created)."""
    e164 = phone_normalize(phone, organization.default_country)
    values = given(
        first_name=first_name,
        last_name=last_name,
        email=email,
        time_zone=time_zone,
        custom_fields=custom_fields,
    )
    existing = Contact.objects.filter(organization=organization, phone=e164).first()
    if existing is None:
        created = contact_create(
            organization=organization, source=source, phone=e164, tags=tags, **values
        )
        return created, True
    contact_update(contact=existing, source=source, **values)
    contact_tags_add(contact=existing, names=tags, source=source)
    return existing, False


@transaction.atomic
def contact_delete(*, contact: Contact, source: str) -> None:
    """Deletes the contact; the number's consent (and the ledger) stays."""
    contact_id, phone = contact.pk, contact.phone
    contact.delete()
    signals.emit_after_commit(
        signals.contact_deleted,
        organization_id=contact.organization_id,
        contact_ids=[contact_id],
        source=source,
        phone=phone,
    )
