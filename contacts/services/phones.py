from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, timezone

from tenants.errors import ApplicationError

ALLOWED = re.compile(r"^[0-9+().\-\s/]+$")


def _parsed(raw: str, default_country: str, field: str) -> phonenumbers.PhoneNumber:
    """The number parsed, of a possible length, or an error that says what is wrong."""
    value = (raw or "").strip()
    if not value:
        raise ApplicationError.for_field(field, "Enter a phone number.")
    if not ALLOWED.match(value):
        raise ApplicationError.for_field(
            field, "A phone number has only digits, spaces, +, -, . and parentheses."
        )
    try:
        parsed = phonenumbers.parse(value, default_country)
    except NumberParseException as exc:
        raise ApplicationError.for_field(field, f"“{value}” is not a phone number.") from exc
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason == phonenumbers.ValidationResult.TOO_SHORT:
        raise ApplicationError.for_field(field, f"“{value}” is too short for a phone number.")
    if reason in (
        phonenumbers.ValidationResult.TOO_LONG,
        phonenumbers.ValidationResult.INVALID_LENGTH,
    ):
        raise ApplicationError.for_field(field, f"“{value}” is too long for a phone number.")
    return parsed


def _invalid(raw: str, field: str) -> ApplicationError:
    return ApplicationError.for_field(
        field,
        f"“{raw.strip()}” is not a valid number (check the area code), or add the country "
        "code, such as +44.",
    )


def phone_normalize(raw: str, default_country: str, *, field: str = "phone") -> str:
    """Any usual way of writing a number → E.164, or an error that says what is wrong."""
    parsed = _parsed(raw, default_country, field)
    if not phonenumbers.is_valid_number(parsed):
        raise _invalid(raw, field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Number types that no phone can text (a toll-free or VoIP number may be text-enabled).
NOT_MOBILE = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "a landline",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    phonenumbers.PhoneNumberType.SHARED_COST: "a shared-cost number",
    phonenumbers.PhoneNumberType.PAGER: "a pager",
    phonenumbers.PhoneNumberType.UAN: "a company's universal access number",
    phonenumbers.PhoneNumberType.VOICEMAIL: "a voicemail access number",
}


@dataclass(frozen=True)
class PhoneFacts:
    e164: str
    not_mobile: str  # why no phone can text it ("" when one may)
    time_zone: str | None  # when the number tells exactly one


def phone_facts(raw: str, default_country: str, *, field: str = "phone") -> PhoneFacts:
    """What ``phone_normalize``, ``phone_mobile_refusal`` and ``phone_time_zone`` tell, from
    one parse and one lookup of the number's type (the costly part, which each of them does
    on its own): for an import's thousands of numbers."""
    parsed = _parsed(raw, default_country, field)
    kind = phonenumbers.number_type(parsed)  # UNKNOWN exactly when is_valid_number is False
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise _invalid(raw, field)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    refusal = NOT_MOBILE.get(kind)
    return PhoneFacts(
        e164,
        f"{phone_display(e164)} is {refusal}: it cannot receive texts." if refusal else "",
        _one_zone(
            # A geographical number's zones are its prefix's (what time_zones_for_number
            # finds too, after looking up the type again); others are the country's.
            timezone.time_zones_for_geographical_number(parsed)
            if phonenumbers.is_number_type_geographical(kind, parsed.country_code or 0)
            else timezone.time_zones_for_number(parsed)
        ),
    )


def _one_zone(found: Iterable[str]) -> str | None:
    zones = [z for z in found if "/" in z]
    return zones[0] if len(set(zones)) == 1 and zones[0] != "Etc/Unknown" else None


def phone_time_zone(e164: str) -> str | None:
    """The number's time zone when the number tells exactly one."""
    return _one_zone(timezone.time_zones_for_number(phonenumbers.parse(e164)))


def phone_display(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
