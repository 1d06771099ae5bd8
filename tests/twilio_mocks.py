"""Twilio at the HTTP level, for tests: real-shaped bodies from tests/fixtures/twilio/.

The fixtures describe one account (``ACCOUNT_SID`` / ``AUTH_TOKEN``) with one local number,
``NUMBER``; helpers reshape them for the case at hand (a trial account, a number without SMS,
a toll-free number, …) and register them on a ``responses`` mock.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import responses

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
API = "https://api.twilio.com/2010-04-01"
MESSAGING = "https://messaging.twilio.com/v1"

ACCOUNT_SID = "AC8c3f2b1a0d9e8f7a6b5c4d3e2f1a0b9c"
AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
NUMBER = "+14155550100"
NUMBER_SID = "PN3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a"
SERVICE_SID = "MG2a4c6e8a0c2e4a6c8e0a2c4e6a8c0e2a"
SHORT_CODE = "894546"
SHORT_CODE_SID = "SC6d8f0a2c4e6a8c0e2a4c6e8a0c2e4a6c"
TOLL_FREE = "+18005550199"
TOLL_FREE_SID = "PN7e9a1c3e5a7c9e1a3c5e7a9c1e3a5c7e"
ACCOUNT_URL = f"{API}/Accounts/{ACCOUNT_SID}.json"
NUMBERS_URL = f"{API}/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def error(code: int, status: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def account(
    rsps: responses.RequestsMock, *, account_sid: str = ACCOUNT_SID, **changes: str
) -> None:
    body = {**load("account"), "sid": account_sid, "owner_account_sid": account_sid, **changes}
    rsps.get(f"{API}/Accounts/{account_sid}.json", json=body)


def account_refused(rsps: responses.RequestsMock) -> None:
    rsps.get(ACCOUNT_URL, json=load("error_20003"), status=401)


def incoming_number(
    rsps: responses.RequestsMock,
    number: str = NUMBER,
    *,
    sid: str = NUMBER_SID,
    sms: bool = True,
    found: bool = True,
    account_sid: str = ACCOUNT_SID,
) -> None:
    body = load("incoming_phone_numbers")
    entry = body["incoming_phone_numbers"][0]
    entry.update(phone_number=number, sid=sid)
    entry["capabilities"]["sms"] = sms
    if not found:
        body["incoming_phone_numbers"] = []
    rsps.get(
        f"{API}/Accounts/{account_sid}/IncomingPhoneNumbers.json",
        json=body,
        match=[responses.matchers.query_param_matcher({"PhoneNumber": number, "PageSize": "1"})],
    )


def short_code(rsps: responses.RequestsMock, *, found: bool = True) -> None:
    body = load("short_codes")
    if not found:
        body["short_codes"] = []
    rsps.get(
        f"{API}/Accounts/{ACCOUNT_SID}/SMS/ShortCodes.json",
        json=body,
        match=[responses.matchers.query_param_matcher({"ShortCode": SHORT_CODE, "PageSize": "1"})],
    )


def service_body(sid: str = SERVICE_SID, *, registered: bool = True, name: str = "") -> dict:
    body = load("messaging_service")
    body.update(sid=sid, us_app_to_person_registered=registered)
    if name:
        body["friendly_name"] = name
    return body


def messaging_service(rsps: responses.RequestsMock, *, registered: bool = True) -> None:
    rsps.get(f"{MESSAGING}/Services/{SERVICE_SID}", json=service_body(registered=registered))


def messaging_service_missing(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{MESSAGING}/Services/{SERVICE_SID}", json=load("error_20404"), status=404)


def service_numbers(
    rsps: responses.RequestsMock, service_sid: str = SERVICE_SID, numbers: list[str] | None = None
) -> None:
    body = load("messaging_service_phone_numbers")
    template = body["phone_numbers"][0]
    body["phone_numbers"] = []
    for number in [NUMBER] if numbers is None else numbers:
        entry = copy.deepcopy(template)
        entry.update(phone_number=number, service_sid=service_sid)
        body["phone_numbers"].append(entry)
    rsps.get(f"{MESSAGING}/Services/{service_sid}/PhoneNumbers", json=body)


def services(rsps: responses.RequestsMock, *entries: tuple[str, bool, list[str]]) -> None:
    """Messaging services of the account: (sid, A2P-registered, its numbers) each."""
    body = {
        "meta": {
            "first_page_url": f"{MESSAGING}/Services?PageSize=50&Page=0",
            "key": "services",
            "next_page_url": None,
            "page": 0,
            "page_size": 50,
            "previous_page_url": None,
            "url": f"{MESSAGING}/Services?PageSize=50&Page=0",
        },
        "services": [service_body(sid, registered=registered) for sid, registered, _ in entries],
    }
    rsps.get(f"{MESSAGING}/Services", json=body)
    for sid, _registered, numbers in entries:
        service_numbers(rsps, sid, numbers)


def toll_free_verification(rsps: responses.RequestsMock, status: str | None) -> None:
    body = load("tollfree_verifications")
    if status is None:
        body["verifications"] = []
    else:
        body["verifications"][0]["status"] = status
    rsps.get(
        f"{MESSAGING}/Tollfree/Verifications",
        json=body,
        match=[
            responses.matchers.query_param_matcher(
                {"TollfreePhoneNumberSid": TOLL_FREE_SID, "PageSize": "1"}
            )
        ],
    )


def happy_local_number(
    rsps: responses.RequestsMock,
    *,
    registered: bool = True,
    account_sid: str = ACCOUNT_SID,
    number: str = NUMBER,
) -> None:
    """An active paid account whose US local number is in a (registered) service."""
    account(rsps, account_sid=account_sid)
    incoming_number(rsps, number, account_sid=account_sid)
    services(rsps, (SERVICE_SID, registered, [number]))


def requests_made(rsps: responses.RequestsMock) -> list[str]:
    """``METHOD path?query`` of every request, in order, for asserting the exact calls."""
    return [
        f"{call.request.method} {re.sub(r'^https?://[^/]+', '', call.request.url or '')}"
        for call in rsps.calls
    ]
