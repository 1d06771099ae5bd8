"""Proving Twilio credentials and a sender before anything is saved.

``twilio_input_clean`` checks formats (no network). ``twilio_verify`` then asks Twilio, in
order: the account (keys right, account usable), the sender (a number of that account that can
send SMS, a short code of it, or one of its Messaging Services), and what carriers require of
that sender (A2P 10DLC for US local numbers, verification for toll-free numbers). A problem
with the first two is an error naming the field; the compliance check only ever warns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from connections.crypto import Secret
from connections.models import ComplianceState, SenderType
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import ErrorKind, TwilioError
from connections.twilio_records import MessagingService
from tenants.errors import ApplicationError

ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")
AUTH_TOKEN = re.compile(r"^[0-9a-f]{32}$")
SHORT_CODE = re.compile(r"^[0-9]{5,6}$")
NUMBER_CHARACTERS = re.compile(r"^[0-9+().\-\s]+$")

BAD_KEYS = "Account SID or Auth Token is wrong."


class TwilioUnavailable(ApplicationError):
    """Twilio could not be reached or did not answer: nothing was checked or saved."""

    status = 502
    code = "twilio_unreachable"


@dataclass(frozen=True)
class TwilioInput:
    """Credentials and sender, in canonical form, not yet proven with Twilio."""

    account_sid: str
    auth_token: Secret
    phone_number: str = ""  # E.164, or a short code's digits
    messaging_service_sid: str = ""


@dataclass
class TwilioFacts:
    """What Twilio told us about the account and the sender."""

    account_name: str
    account_type: str
    sender_type: str
    sender_country: str = ""
    phone_number_sid: str = ""
    sms_capable: bool = True
    compliance_state: str = ComplianceState.NOT_REQUIRED
    compliance_detail: str = ""


def _sid(value: str, pattern: re.Pattern[str], prefix: str) -> str:
    # SIDs are two capital letters and 32 lower-case hex digits; accept the hex in any case.
    value = value.strip()
    if len(value) == 34 and value[:2].upper() == prefix:
        value = prefix + value[2:].lower()
    return value if pattern.match(value) else ""


def phone_number_clean(raw: str, default_country: str) -> str:
    """A sender typed any sensible way → E.164 (or a short code's digits)."""
    value = raw.strip()
    if not value:
        raise ApplicationError.for_field("phone_number", "Enter the sender's phone number.")
    if not NUMBER_CHARACTERS.match(value):
        raise ApplicationError.for_field(
            "phone_number",
            "A phone number has only digits, spaces, +, -, . and parentheses, "
            "such as +1 415 555 0100.",
        )
    if SHORT_CODE.match(value):
        return value
    try:
        parsed = phonenumbers.parse(value, default_country)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ApplicationError.for_field(
            "phone_number",
            f"“{value}” is not a valid phone number. Use the format shown in Active numbers of "
            "your Twilio account, such as +1 415 555 0100.",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def twilio_input_clean(
    *,
    account_sid: str,
    auth_token: str | Secret | None,
    phone_number: str = "",
    messaging_service_sid: str = "",
    default_country: str,
    stored_token: Secret | None = None,
) -> TwilioInput:
    """Checks formats only. ``stored_token`` is used when no token is given (same account)."""
    errors: dict[str, list[str]] = {}
    sid = _sid(account_sid or "", ACCOUNT_SID, "AC")
    if not sid:
        errors["account_sid"] = [
            "An Account SID is AC followed by 32 letters and digits (0-9, a-f); copy it from "
            "the Account Info box of the Twilio Console."
        ]
    token = auth_token if isinstance(auth_token, Secret) else Secret((auth_token or "").strip())
    if not token.reveal() and stored_token is not None:
        token = stored_token
    if not token.reveal():
        errors["auth_token"] = ["Enter the Auth Token (next to the Account SID in the Console)."]
    elif not AUTH_TOKEN.match(token.reveal()):
        errors["auth_token"] = ["An Auth Token is 32 letters and digits (0-9, a-f)."]

    number, service = (phone_number or "").strip(), (messaging_service_sid or "").strip()
    if number and service:
        errors["phone_number"] = ["Give a phone number or a Messaging Service SID, not both."]
    elif service:
        service = _sid(service, MESSAGING_SERVICE_SID, "MG")
        if not service:
            errors["messaging_service_sid"] = [
                "A Messaging Service SID is MG followed by 32 letters and digits (0-9, a-f)."
            ]
    else:
        try:
            number = phone_number_clean(number, default_country)
        except ApplicationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ApplicationError("Some connection details are not valid.", fields=errors)
    return TwilioInput(
        account_sid=sid, auth_token=token, phone_number=number, messaging_service_sid=service
    )


def _unavailable(error: TwilioError) -> TwilioUnavailable:
    return TwilioUnavailable(
        f"Twilio could not be reached to check these details ({error.message}) Nothing was "
        "saved; try again in a moment."
    )


def _check_account(gateway: TwilioGateway) -> TwilioFacts:
    try:
        account = gateway.fetch_account()
    except TwilioError as error:
        if error.is_authentication_failure:
            raise ApplicationError(
                BAD_KEYS, code="twilio_authentication_failed", fields={"auth_token": [BAD_KEYS]}
            ) from error
        if error.kind is ErrorKind.PERMANENT:
            raise ApplicationError.for_field("account_sid", error.message) from error
        raise _unavailable(error) from error
    if account.status in ("suspended", "closed"):
        raise ApplicationError.for_field(
            "account_sid",
            f"This Twilio account is {account.status}. Reactivate it in the Twilio Console "
            "before connecting it.",
            code=f"twilio_account_{account.status}",
        )
    return TwilioFacts(account_name=account.name, account_type=account.type, sender_type="")


def _check_number(gateway: TwilioGateway, data: TwilioInput, facts: TwilioFacts) -> None:
    number = data.phone_number
    if SHORT_CODE.match(number):
        short_code = gateway.find_short_code(number)
        if short_code is None:
            raise ApplicationError.for_field(
                "phone_number", f"The short code {number} is not in this Twilio account."
            )
        facts.sender_type = SenderType.SHORT_CODE
        facts.sender_country = "US"
        facts.phone_number_sid = short_code.sid
        return
    incoming = gateway.find_incoming_number(number)
    if incoming is None:
        raise ApplicationError.for_field(
            "phone_number",
            f"{number} is not a number of this Twilio account. Use one listed under Phone "
            "Numbers → Manage → Active numbers.",
            code="twilio_number_not_found",
        )
    if not incoming.sms:
        raise ApplicationError.for_field(
            "phone_number",
            f"{number} cannot send SMS: Twilio lists it without the SMS capability.",
            code="twilio_number_not_sms_capable",
        )
    parsed = phonenumbers.parse(number)
    facts.phone_number_sid = incoming.sid
    facts.sender_country = phonenumbers.region_code_for_number(parsed) or ""
    toll_free = phonenumbers.number_type(parsed) == PhoneNumberType.TOLL_FREE
    facts.sender_type = SenderType.TOLL_FREE if toll_free else SenderType.LOCAL


def _check_messaging_service(
    gateway: TwilioGateway, data: TwilioInput, facts: TwilioFacts
) -> MessagingService:
    service = gateway.fetch_messaging_service(data.messaging_service_sid)
    if service is None:
        raise ApplicationError.for_field(
            "messaging_service_sid",
            f"{data.messaging_service_sid} is not a Messaging Service of this Twilio account.",
            code="twilio_messaging_service_not_found",
        )
    facts.sender_type = SenderType.MESSAGING_SERVICE
    return service


def _check_compliance(
    gateway: TwilioGateway,
    data: TwilioInput,
    facts: TwilioFacts,
    service: MessagingService | None,
) -> None:
    """US local numbers need A2P 10DLC, US toll-free numbers verification; others nothing."""
    if service is not None:
        numbers = gateway.list_service_numbers(data.messaging_service_sid)
        us_local = [
            n
            for n in numbers
            if phonenumbers.region_code_for_number(phonenumbers.parse(n.phone_number)) == "US"
            and phonenumbers.number_type(phonenumbers.parse(n.phone_number))
            != PhoneNumberType.TOLL_FREE
        ]
        if us_local:
            facts.sender_country = "US"
            registered = service.us_a2p_registered
            facts.compliance_state = (
                ComplianceState.REGISTERED if registered else ComplianceState.UNREGISTERED
            )
            if not registered:
                facts.compliance_detail = f"{len(us_local)} US local number(s) in this service"
        return
    if facts.sender_country != "US":
        return
    if facts.sender_type == SenderType.TOLL_FREE:
        verification = gateway.find_toll_free_verification(facts.phone_number_sid)
        status = verification.status if verification else ""
        facts.compliance_state = {
            "TWILIO_APPROVED": ComplianceState.REGISTERED,
            "PENDING_REVIEW": ComplianceState.PENDING,
            "IN_REVIEW": ComplianceState.PENDING,
            "TWILIO_REJECTED": ComplianceState.REJECTED,
        }.get(status, ComplianceState.UNREGISTERED)
        return
    if facts.sender_type != SenderType.LOCAL:
        return
    for service in gateway.iter_messaging_services():
        if any(
            n.phone_number == data.phone_number for n in gateway.list_service_numbers(service.sid)
        ):
            registered = service.us_a2p_registered
            facts.compliance_state = (
                ComplianceState.REGISTERED if registered else ComplianceState.UNREGISTERED
            )
            facts.compliance_detail = f"in Messaging Service “{service.name or service.sid}”"
            return
    facts.compliance_state = ComplianceState.UNREGISTERED
    facts.compliance_detail = "not in any Messaging Service"


def twilio_verify(data: TwilioInput) -> TwilioFacts:
    """Asks Twilio. Raises ApplicationError (naming the field) or TwilioUnavailable."""
    gateway = TwilioGateway(data.account_sid, data.auth_token)
    facts = _check_account(gateway)
    service = None
    try:
        if data.messaging_service_sid:
            service = _check_messaging_service(gateway, data, facts)
        else:
            _check_number(gateway, data, facts)
    except TwilioError as error:
        if error.kind is ErrorKind.PERMANENT:
            field_name = "messaging_service_sid" if data.messaging_service_sid else "phone_number"
            raise ApplicationError.for_field(field_name, error.message) from error
        raise _unavailable(error) from error
    try:
        _check_compliance(gateway, data, facts, service)
    except TwilioError as error:
        # The keys and the sender are proven; registration is only ever a warning.
        facts.compliance_state = ComplianceState.UNKNOWN
        facts.compliance_detail = f"Twilio did not say ({error.message})"
    return facts
