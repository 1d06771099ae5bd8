"""Twilio's REST paths: the account, numbers, Messaging Services, toll-free verifications,
and messages (create, fetch, list)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from aiohttp import web

from sandbox.callbacks import deliver
from sandbox.state import Account, Message, TwilioError, now_utc, rfc2822, segments
from sandbox.web import (
    ACCOUNT,
    account_url,
    page,
    page_size,
    spawn,
    twilio_json,
    v1_page,
)


async def account_fetch(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    account_sid = account.options.account_sid
    return twilio_json(
        {
            "auth_token": account.options.auth_token,
            "date_created": "Mon, 01 Jan 2024 00:00:00 +0000",
            "date_updated": "Mon, 01 Jan 2024 00:00:00 +0000",
            "friendly_name": "Twilio Sandbox",
            "owner_account_sid": account_sid,
            "sid": account_sid,
            "status": "active",
            "subresource_uris": {},
            "type": "Full",
            "uri": account_url(account, ".json"),
        }
    )


def _number_json(account: Account, number: Any) -> dict[str, Any]:
    return {
        "account_sid": account.options.account_sid,
        "api_version": "2010-04-01",
        "capabilities": {"fax": False, "mms": True, "sms": number.sms, "voice": True},
        "date_created": "Mon, 01 Jan 2024 00:00:00 +0000",
        "date_updated": "Mon, 01 Jan 2024 00:00:00 +0000",
        "friendly_name": number.phone_number,
        "origin": "twilio",
        "phone_number": number.phone_number,
        "sid": number.sid,
        "sms_method": number.sms_method,
        "sms_url": number.sms_url,
        "status": "in-use",
        "uri": account_url(account, f"/IncomingPhoneNumbers/{number.sid}.json"),
    }


async def numbers_list(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    wanted = request.query.get("PhoneNumber")
    found = [n for n in account.numbers.values() if wanted in (None, n.phone_number)]
    items = [_number_json(account, n) for n in found]
    size = page_size(request)
    uri = str(request.rel_url)
    return twilio_json(page("incoming_phone_numbers", items[:size], uri, size))


async def number_update(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    number = next(
        (n for n in account.numbers.values() if n.sid == request.match_info["number_sid"]), None
    )
    if number is None:
        raise TwilioError(404, 20404, "The requested resource was not found")
    form = await request.post()
    if "SmsUrl" in form:
        number.sms_url = str(form["SmsUrl"])
    if "SmsMethod" in form:
        number.sms_method = str(form["SmsMethod"])
    return twilio_json(_number_json(account, number))


async def short_codes_list(request: web.Request) -> web.Response:
    size = page_size(request)
    return twilio_json(page("short_codes", [], str(request.rel_url), size))


# --- Messaging services and toll-free verification ----------------------------------------


def _service_json(request: web.Request, service: Any) -> dict[str, Any]:
    account = request.app[ACCOUNT]
    base = f"{request.scheme}://{request.host}/v1/Services/{service.sid}"
    return {
        "account_sid": account.options.account_sid,
        "date_created": "2024-01-01T00:00:00Z",
        "date_updated": "2024-01-01T00:00:00Z",
        "friendly_name": service.name,
        "inbound_request_url": None,
        "links": {"phone_numbers": f"{base}/PhoneNumbers"},
        "sid": service.sid,
        "url": base,
        "us_app_to_person_registered": service.registered,
        "use_inbound_webhook_on_number": True,
        "usecase": "marketing",
    }


async def services_list(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    items = [_service_json(request, s) for s in account.services.values()]
    size = page_size(request)
    return twilio_json(v1_page("services", items[:size], str(request.url), size))


def _service(request: web.Request) -> Any:
    service = request.app[ACCOUNT].services.get(request.match_info["service_sid"])
    if service is None:
        raise TwilioError(
            404,
            20404,
            f"The requested resource /Services/{request.match_info['service_sid']} was not found",
        )
    return service


async def service_fetch(request: web.Request) -> web.Response:
    return twilio_json(_service_json(request, _service(request)))


async def service_numbers(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    service = _service(request)
    items = [
        {
            "account_sid": account.options.account_sid,
            "capabilities": ["SMS", "MMS", "Voice"],
            "country_code": "US" if number.startswith("+1") else "",
            "date_created": "2024-01-01T00:00:00Z",
            "date_updated": "2024-01-01T00:00:00Z",
            "phone_number": number,
            "service_sid": service.sid,
            "sid": account.numbers[number].sid,
            "url": f"{request.scheme}://{request.host}/v1/Services/{service.sid}/PhoneNumbers/"
            f"{account.numbers[number].sid}",
        }
        for number in service.numbers
    ]
    size = page_size(request)
    return twilio_json(v1_page("phone_numbers", items[:size], str(request.url), size))


async def toll_free_verifications(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    wanted = request.query.get("TollfreePhoneNumberSid")
    items = [
        {
            "account_sid": account.options.account_sid,
            "sid": "HH" + n.sid[2:],
            "status": "TWILIO_APPROVED",
            "tollfree_phone_number_sid": n.sid,
        }
        for n in account.numbers.values()
        if n.toll_free and wanted in (None, n.sid)
    ]
    size = page_size(request)
    return twilio_json(v1_page("verifications", items[:size], str(request.url), size))


# --- Messages -------------------------------------------------------------------------------


def message_json(account: Account, message: Message) -> dict[str, Any]:
    return {
        "account_sid": account.options.account_sid,
        "api_version": "2010-04-01",
        "body": message.body,
        "date_created": rfc2822(message.created),
        "date_sent": rfc2822(message.sent) if message.sent else None,
        "date_updated": rfc2822(message.updated or message.created),
        "direction": message.direction,
        "error_code": message.error_code,
        "error_message": None,
        "from": message.from_,
        "messaging_service_sid": message.messaging_service_sid or None,
        "num_media": "1" if message.media_url else "0",
        "num_segments": str(segments(message.body)),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": account_url(account, f"/Messages/{message.sid}/Media.json")},
        "to": message.to,
        "uri": account_url(account, f"/Messages/{message.sid}.json"),
    }


async def message_create(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    options = account.options
    if options.latency_ms:
        await asyncio.sleep(options.latency_ms / 1000)
    fault = account.create_fault()
    if fault == "429":
        raise TwilioError(429, 20429, "Too Many Requests")
    if fault == "500-not-created":
        # Twilio failed before storing it: a lookup finds nothing, sending again is right.
        raise TwilioError(500, 20500, "Internal Server Error")
    form = await request.post()
    params = {key: str(value) for key, value in form.items()}
    message = account.create_message(params, now_utc())
    spawn(request.app, deliver(request.app, message))
    if fault == "500-created":
        # The message exists and will be delivered, but the answer is lost: the caller must
        # look it up before sending again.
        raise TwilioError(500, 20500, "Internal Server Error")
    if fault == "slow":
        # Twilio has it (its callbacks start now); the answer comes after the caller gave up.
        await asyncio.sleep(options.slow_ms / 1000)
    return twilio_json(message_json(account, message), status=201)


async def message_fetch(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    message = account.messages.get(request.match_info["message_sid"])
    if message is None:
        raise TwilioError(404, 20404, "The requested resource was not found")
    return twilio_json(message_json(account, message))


def _parse_when(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=now_utc().tzinfo)


async def messages_list(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    to = request.query.get("To")
    from_ = request.query.get("From")
    after = (
        _parse_when(request.query.get("DateSent>", "")) if "DateSent>" in request.query else None
    )
    found = [
        m
        for m in account.messages.values()
        if (to is None or m.to == to)
        and (from_ is None or m.from_ == from_)
        and (after is None or (m.sent or m.created) >= after)
    ]
    found.sort(key=lambda m: m.created, reverse=True)
    size = page_size(request)
    items = [message_json(account, m) for m in found[:size]]
    return twilio_json(page("messages", items, str(request.rel_url), size))
