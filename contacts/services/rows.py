"""A row of values as a contact: checked as the contact services check one contact, with
every reason it cannot be one (what an import reports row by row)."""

from __future__ import annotations

import datetime
import functools
import re
import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.services.contacts import CUSTOM_KEY, MAX_CUSTOM_VALUE
from contacts.services.phones import phone_facts
from contacts.services.tags import tag_name_clean
from tenants.errors import ApplicationError
from tenants.models import Organization

NAME_LIMIT = 100
EMAIL_LIMIT = 254  # EmailField's


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_iso_date(value: str) -> bool:
    """A date as custom fields hold them: ``YYYY-MM-DD``, a real day."""
    if not ISO_DATE.match(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@functools.cache
def _time_zones() -> frozenset[str]:
    # zoneinfo.available_timezones() walks the zone files on every call.
    return frozenset(zoneinfo.available_timezones())


@dataclass
class ContactRow:
    """A row's values, checked; empty ones left out (an empty cell never blanks a field)."""

    phone: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    time_zone: str = ""
    custom_fields: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    number_zone: str | None = None  # the time zone the number tells, if one

    def zone(self, organization: Organization) -> str:
        """The time zone a new contact of this row gets: the file's, else as for one contact
        (the number's, else the organization's)."""
        return self.time_zone or self.number_zone or organization.time_zone


@dataclass(frozen=True)
class Problem:
    code: str
    reason: str


def _text(value: str) -> str:
    return " ".join(value.split())


def contact_row_clean(
    values: Mapping[str, str],
    *,
    country: str,
    date_fields: Collection[str] = (),
    tag_separator: str = ",",
) -> ContactRow | list[Problem]:
    """One row (``phone``, ``first_name``, ``last_name``, ``email``, ``time_zone``, ``tags``,
    ``custom.<key>``: text as the file has it) as a contact, or every reason it cannot be:
    no phone, a number that is not one or cannot be a mobile, an e-mail that is not one, a
    custom date not ``YYYY-MM-DD``, a reserved or malformed tag, a value too long."""
    problems: list[Problem] = []
    # A leading apostrophe is how spreadsheets (and the export) keep "+1…" as text.
    raw_phone = values.get("phone", "").strip().lstrip("'").strip()
    phone, zone_of_number = "", None
    if not raw_phone:
        problems.append(Problem("no_phone", "No phone number."))
    else:
        try:
            facts = phone_facts(raw_phone, country)
        except ApplicationError as exc:
            problems.append(Problem("invalid_phone", exc.summary()))
        else:
            phone, zone_of_number = facts.e164, facts.time_zone
            if facts.not_mobile:
                problems.append(Problem("not_mobile", facts.not_mobile))
    row = ContactRow(phone=phone, number_zone=zone_of_number)
    for name in ("first_name", "last_name"):
        value = _text(values.get(name, ""))
        if len(value) > NAME_LIMIT:
            problems.append(Problem("too_long", f"{name}: at most {NAME_LIMIT} characters."))
        setattr(row, name, value)
    email = values.get("email", "").strip().lower()
    if email:
        try:
            if len(email) > EMAIL_LIMIT:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            problems.append(Problem("invalid_email", f"“{email[:80]}” is not an e-mail address."))
        row.email = email
    zone = values.get("time_zone", "").strip()
    if zone:
        if zone not in _time_zones():
            problems.append(
                Problem(
                    "invalid_time_zone", f"“{zone[:64]}” is not a time zone such as Europe/Paris."
                )
            )
        row.time_zone = zone
    for key, value in values.items():
        if not key.startswith("custom."):
            continue
        name, value = key.removeprefix("custom."), value.strip()
        if not value or not CUSTOM_KEY.match(name):
            continue
        if len(value) > MAX_CUSTOM_VALUE:
            problems.append(Problem("too_long", f"{key}: at most {MAX_CUSTOM_VALUE} characters."))
        elif name in date_fields and not is_iso_date(value):
            problems.append(
                Problem("invalid_date", f"{key}: “{value[:40]}” is not a date written YYYY-MM-DD.")
            )
        row.custom_fields[name] = value
    for name in (values.get("tags") or "").split(tag_separator):
        if not name.strip():
            continue
        try:
            cleaned = tag_name_clean(name)
        except ApplicationError as exc:
            code = "reserved_tag" if exc.code == "reserved_tag" else "invalid_tag"
            reason = "tags: " + (exc.fields or {}).get("tags", [exc.message])[0]
            problems.append(Problem(code, reason))
            continue
        if cleaned.lower() not in {t.lower() for t in row.tags}:
            row.tags.append(cleaned)
    return problems or row
