from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, timezone

from tenants.errors import ApplicationError

ALLOWED = re.compile(r"^[0-9+().\-\s/]+$")


def phone_normalize(raw: str, default_country: str, *, field: str = "phone") -> str:
    """Any usual way of writing a number → E.164, or an error that says what is wrong."""
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
    if not phonenumbers.is_valid_number(parsed):
        raise ApplicationError.for_field(
            field,
            f"“{value}” is not a valid number (check the area code), or add the country "
            "code, such as +44.",
        )
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


def phone_mobile_refusal(e164: str) -> str:
    """Why this number cannot be a mobile number ("" when it may be one)."""
    kind = NOT_MOBILE.get(phonenumbers.number_type(phonenumbers.parse(e164)))
    return f"{phone_display(e164)} is {kind}: it cannot receive texts." if kind else ""


def phone_time_zone(e164: str) -> str | None:
    """The number's time zone when the number tells exactly one."""
    zones = [z for z in timezone.time_zones_for_number(phonenumbers.parse(e164)) if "/" in z]
    return zones[0] if len(set(zones)) == 1 and zones[0] != "Etc/Unknown" else None


def phone_display(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
