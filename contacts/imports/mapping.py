"""Which column of a file goes where: the targets, the guess from the headers, the memory.

A target is ``phone``, ``first_name``, ``last_name``, ``email``, ``time_zone``, ``tags``,
``custom.<key>`` (new keys allowed) or ``""`` (the column is ignored). The guess takes, for
each header, what this organization chose for it last time, else what the usual spellings
mean (``Mobile``, ``phone_number``, ``First Name``, ``E-mail``, …), else a custom field named
after the header. A custom field is read as a date (``YYYY-MM-DD``, checked) when its name
says so or the file's first values are dates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from contacts.models import ImportColumnMemory
from contacts.services.contacts import CUSTOM_KEY
from contacts.services.rows import is_iso_date
from tenants.errors import ApplicationError
from tenants.models import Organization

FIELDS = {
    "phone": "Phone",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "time_zone": "Time zone",
    "tags": "Tags",
}
SEPARATORS = {",": "comma", ";": "semicolon", "|": "vertical bar"}

# Headers as people write them, squeezed to letters and digits.
SPELLINGS = {
    "phone": (
        "phone phonenumber phoneno phonenum mobile mobilephone mobilenumber mobileno cell "
        "cellphone cellnumber telephone tel msisdn contactnumber number sms smsnumber"
    ),
    "first_name": "firstname first givenname forename fname name fullname contactname",
    "last_name": "lastname last surname familyname lname",
    "email": "email emailaddress mail",
    "time_zone": "timezone tz zone",
    "tags": "tags tag labels label groups lists",
}
GUESSES = {spelling: target for target, words in SPELLINGS.items() for spelling in words.split()}
DATE_WORDS = re.compile(r"(date|birthday|birth|dob|anniversary|_on$|_day$)")


def header_key(header: str) -> str:
    """How a header is remembered: lower-cased, spaces squeezed."""
    return " ".join(header.lower().split())[:100]


def _squeezed(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum())


def custom_key(header: str) -> str:
    """A custom field's name for a header: ``Renewal date`` → ``renewal_date``; "" if none."""
    ascii_ = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_")
    if key and not key[0].isalpha():
        key = f"field_{key}"
    key = key[:50].rstrip("_")
    return key if CUSTOM_KEY.match(key) else ""


def looks_like_dates(key: str, values: Sequence[str]) -> bool:
    filled = [v.strip() for v in values if v.strip()]
    return bool(DATE_WORDS.search(key)) or (bool(filled) and all(is_iso_date(v) for v in filled))


def mapping_guess(
    organization: Organization, header: Sequence[str], sample: Sequence[Sequence[str]] = ()
) -> dict[str, Any]:
    """The mapping a new import starts with: targets by column, and the custom fields read
    as dates."""
    remembered = dict(
        ImportColumnMemory.objects.filter(
            organization=organization, header__in=[header_key(h) for h in header]
        ).values_list("header", "target")
    )
    targets: list[str] = []
    for name in header:
        target = remembered.get(header_key(name))
        if target is None:
            target = GUESSES.get(_squeezed(name), "")
            if not target and (key := custom_key(name)):
                target = f"custom.{key}"
        # The first column to claim a field has it; a second one is ignored.
        if target and target in targets:
            target = ""
        targets.append(target)
    dates = [
        t.removeprefix("custom.")
        for i, t in enumerate(targets)
        if t.startswith("custom.")
        and looks_like_dates(t.removeprefix("custom."), [r[i] for r in sample if i < len(r)])
    ]
    return {"columns": targets, "date_fields": dates}


def mapping_clean(header: Sequence[str], raw: Any) -> dict[str, Any]:
    """A mapping as the pages and the API send it (``columns``: one target per column, or
    ``{header: target}``; ``date_fields``: custom keys read as dates), checked."""
    if not isinstance(raw, Mapping):
        raise ApplicationError.for_field("mapping", "The mapping is an object with columns.")
    columns = raw.get("columns")
    if isinstance(columns, Mapping):
        unknown = [h for h in columns if h not in header]
        if unknown:
            raise ApplicationError.for_field(
                "mapping",
                f"The file has no column “{unknown[0]}”: its columns are "
                + ", ".join(f"“{h}”" for h in header)
                + ".",
            )
        columns = [str(columns.get(h) or "") for h in header]
    if not isinstance(columns, list) or len(columns) != len(header):
        raise ApplicationError.for_field(
            "mapping", f"Give one target per column: the file has {len(header)}."
        )
    columns = list(columns)  # the caller's list stays as it was
    seen: dict[str, int] = {}
    for index, target in enumerate(columns):
        target = str(target or "").strip()
        columns[index] = target
        if not target:
            continue
        if target.startswith("custom."):
            if not CUSTOM_KEY.match(target.removeprefix("custom.")):
                raise ApplicationError.for_field(
                    "mapping",
                    f"“{target}”: a custom field name starts with a lower-case letter and has "
                    "only lower-case letters, digits and _ (50 at most).",
                )
        elif target not in FIELDS:
            raise ApplicationError.for_field(
                "mapping",
                f"“{target}” is not a target: use "
                + ", ".join(FIELDS)
                + ", custom.<name>, or leave the column out.",
            )
        if target in seen:
            raise ApplicationError.for_field(
                "mapping",
                f"Two columns (“{header[seen[target]]}” and “{header[index]}”) go to {target}: "
                "choose one.",
            )
        seen[target] = index
    if "phone" not in seen:
        raise ApplicationError.for_field(
            "mapping", "Choose the column that holds the phone numbers."
        )
    customs = {t.removeprefix("custom.") for t in columns if t.startswith("custom.")}
    dates = raw.get("date_fields") or []
    if not isinstance(dates, list) or any(
        not isinstance(d, str) or d not in customs for d in dates
    ):
        raise ApplicationError.for_field(
            "mapping", "Dates are read only from the custom fields the file is mapped to."
        )
    return {"columns": columns, "date_fields": sorted(set(dates))}


def mapping_remember(
    organization: Organization, header: Sequence[str], columns: Sequence[str]
) -> None:
    """Keeps each header's target for the organization's next import."""
    for name, target in zip(header, columns, strict=True):
        if name.strip():
            ImportColumnMemory.objects.update_or_create(
                organization=organization, header=header_key(name), defaults={"target": target}
            )
