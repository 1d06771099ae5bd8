"""The sandbox's HTTP server: Twilio's REST paths, signed callbacks, and the phones page.

One asyncio process (aiohttp) serves both of Twilio's hosts (``/2010-04-01/…`` and ``/v1/…``)
and the sandbox's own pages under ``/sandbox/``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from twilio.request_validator import RequestValidator
from yarl import URL

from sandbox import pages
from sandbox.state import (
    Account,
    Message,
    Options,
    TwilioError,
    now_utc,
    rfc2822,
    segments,
    sid,
)

logger = logging.getLogger("sandbox")


@dataclass
class Runtime:
    """The client for callbacks, and the callbacks in flight (referenced until done)."""

    session: ClientSession
    tasks: set[asyncio.Future[None]] = field(default_factory=set)


ACCOUNT = web.AppKey("account", Account)
RUNTIME = web.AppKey("runtime", Runtime)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def twilio_json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


@web.middleware
async def twilio_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Basic auth on Twilio's paths, and errors in Twilio's shape."""
    account = request.app[ACCOUNT]
    try:
        if not request.path.startswith("/sandbox"):
            user, password = _basic_auth(request)
            account.check_auth(user, password)
            if "account_sid" in request.match_info and (
                request.match_info["account_sid"] != account.options.account_sid
            ):
                raise TwilioError(404, 20404, "The requested resource was not found")
        return await handler(request)
    except TwilioError as error:
        return twilio_json(error.body(), status=error.status)


def _basic_auth(request: web.Request) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return "", ""
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def _account_url(account: Account, tail: str = "") -> str:
    return f"/2010-04-01/Accounts/{account.options.account_sid}{tail}"


def _page(key: str, items: list[dict[str, Any]], uri: str, page_size: int) -> dict[str, Any]:
    return {
        key: items,
        "end": max(len(items) - 1, 0),
        "first_page_uri": uri,
        "next_page_uri": None,
        "page": 0,
        "page_size": page_size,
        "previous_page_uri": None,
        "start": 0,
        "uri": uri,
    }


def _v1_page(key: str, items: list[dict[str, Any]], url: str, page_size: int) -> dict[str, Any]:
    return {
        key: items,
        "meta": {
            "first_page_url": url,
            "key": key,
            "next_page_url": None,
            "page": 0,
            "page_size": page_size,
            "previous_page_url": None,
            "url": url,
        },
    }


def _page_size(request: web.Request, default: int = 50) -> int:
    try:
        return max(1, min(1000, int(request.query.get("PageSize", default))))
    except ValueError:
        return default


# --- Accounts and numbers -----------------------------------------------------------------


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
            "uri": _account_url(account, ".json"),
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
        "uri": _account_url(account, f"/IncomingPhoneNumbers/{number.sid}.json"),
    }


async def numbers_list(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    wanted = request.query.get("PhoneNumber")
    found = [n for n in account.numbers.values() if wanted in (None, n.phone_number)]
    items = [_number_json(account, n) for n in found]
    size = _page_size(request)
    uri = str(request.rel_url)
    return twilio_json(_page("incoming_phone_numbers", items[:size], uri, size))


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
    size = _page_size(request)
    return twilio_json(_page("short_codes", [], str(request.rel_url), size))


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
    size = _page_size(request)
    return twilio_json(_v1_page("services", items[:size], str(request.url), size))


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
    size = _page_size(request)
    return twilio_json(_v1_page("phone_numbers", items[:size], str(request.url), size))


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
    size = _page_size(request)
    return twilio_json(_v1_page("verifications", items[:size], str(request.url), size))


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
        "subresource_uris": {"media": _account_url(account, f"/Messages/{message.sid}/Media.json")},
        "to": message.to,
        "uri": _account_url(account, f"/Messages/{message.sid}.json"),
    }


async def message_create(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    options = account.options
    if options.latency_ms:
        await asyncio.sleep(options.latency_ms / 1000)
    if account.rng.random() < options.http_429_rate:
        raise TwilioError(429, 20429, "Too Many Requests")
    form = await request.post()
    params = {key: str(value) for key, value in form.items()}
    message = account.create_message(params, now_utc())
    _spawn(request.app, deliver(request.app, message))
    if account.rng.random() < options.http_500_rate:
        # The message exists and will be delivered, but the answer is lost: the caller must
        # look it up before sending again.
        raise TwilioError(500, 20500, "Internal Server Error")
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
    after = (
        _parse_when(request.query.get("DateSent>", "")) if "DateSent>" in request.query else None
    )
    found = [
        m
        for m in account.messages.values()
        if (to is None or m.to == to) and (after is None or (m.sent or m.created) >= after)
    ]
    found.sort(key=lambda m: m.created, reverse=True)
    size = _page_size(request)
    items = [message_json(account, m) for m in found[:size]]
    return twilio_json(_page("messages", items, str(request.rel_url), size))


# --- Callbacks --------------------------------------------------------------------------------


def _spawn(app: web.Application, coroutine: Awaitable[None]) -> None:
    task = asyncio.ensure_future(coroutine)
    app[RUNTIME].tasks.add(task)
    task.add_done_callback(app[RUNTIME].tasks.discard)


async def post_signed(
    app: web.Application, url: str, params: dict[str, str]
) -> tuple[int | None, str]:
    """POSTs form ``params`` to ``url`` signed like Twilio: (status or None, body)."""
    account = app[ACCOUNT]
    signature = RequestValidator(account.options.auth_token).compute_signature(url, params)
    headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
    try:
        # encoded=True: request the URL exactly as given (and signed), as Twilio does.
        target = URL(url, encoded=True)
        async with app[RUNTIME].session.post(target, data=params, headers=headers) as response:
            return response.status, await response.text()
    except Exception as exc:  # any failure to deliver is itself the answer we record
        logger.warning("callback to %s failed: %s", url, type(exc).__name__)
        return None, ""


async def deliver(app: web.Application, message: Message) -> None:
    """Moves the message through Twilio's statuses, posting each to its StatusCallback."""
    account = app[ACCOUNT]
    options = account.options
    final, error_code = account.outcome()
    path = ["queued", final] if final == "failed" else ["queued", "sent", final]
    if message.status == "accepted":
        path.insert(0, "accepted")
    events = [(status, error_code if status == final else None) for status in path]
    if options.duplicate_callbacks:
        events = [event for event in events for _ in range(2)]
    if options.shuffle_callbacks:
        account.rng.shuffle(events)
    for status, code in events:
        if options.callback_delay_ms:
            await asyncio.sleep(options.callback_delay_ms / 1000)
        moment = now_utc()
        message.status, message.updated = status, moment
        if status in ("sent", "delivered", "undelivered"):
            message.sent = message.sent or moment
        if code:
            message.error_code = code
        if not message.status_callback:
            continue
        params = {
            "AccountSid": account.options.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_,
            "MessageSid": message.sid,
            "MessageStatus": status,
            "SmsSid": message.sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if code:
            params["ErrorCode"] = str(code)
        answer, _body = await post_signed(app, message.status_callback, params)
        account.callback_answers[str(answer) if answer else "error"] += 1
    message.status = final


# --- Inbound and the sandbox's own pages ------------------------------------------------------


async def inbound(request: web.Request) -> web.StreamResponse:
    """A phone texts one of the account's numbers: Twilio posts it to the number's SMS URL."""
    account = request.app[ACCOUNT]
    from_page = request.content_type != "application/json"
    data: dict[str, Any] = dict(await request.post()) if from_page else await request.json()
    sender, recipient = str(data.get("from", "")).strip(), str(data.get("to", "")).strip()
    body = str(data.get("body", ""))
    number = account.numbers.get(recipient)
    if number is None:
        return web.json_response({"error": f"{recipient} is not a sandbox number"}, status=400)
    url = str(data.get("url") or number.sms_url)
    if not url:
        return web.json_response(
            {"error": f"{recipient} has no SMS URL: set it (Configure the number) or pass url"},
            status=409,
        )
    opt_out_type = account.record_inbound(sender, recipient, body)
    message = Message(
        sid=sid("SM"),
        to=recipient,
        from_=sender,
        body=body,
        media_url="",
        status="received",
        status_callback="",
        messaging_service_sid="",
        created=now_utc(),
        direction="inbound",
    )
    account.messages[message.sid] = message
    params = {
        "AccountSid": account.options.account_sid,
        "ApiVersion": "2010-04-01",
        "Body": body,
        "From": sender,
        "FromCountry": "US" if sender.startswith("+1") else "",
        "MessageSid": message.sid,
        "NumMedia": "0",
        "NumSegments": str(segments(body)),
        "SmsMessageSid": message.sid,
        "SmsSid": message.sid,
        "SmsStatus": "received",
        "To": recipient,
        "ToCountry": "US" if recipient.startswith("+1") else "",
    }
    service = account.service_of(recipient)
    if service is not None:
        params["MessagingServiceSid"] = service.sid
    if opt_out_type and str(data.get("opt_out", "")).lower() in ("1", "true", "yes", "on"):
        params["OptOutType"] = opt_out_type
    status, reply = await post_signed(request.app, url, params)
    account.inbound_answers[str(status) if status else "error"] += 1
    if from_page:
        raise web.HTTPSeeOther(f"/sandbox/#{pages.anchor(sender)}")
    return web.json_response(
        {"message_sid": message.sid, "posted_to": url, "status": status, "reply": reply}
    )


async def phones(request: web.Request) -> web.Response:
    return web.Response(text=pages.phones(request.app[ACCOUNT]), content_type="text/html")


async def stats(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    return web.json_response(
        {
            "creates": dict(account.creates_per_callback_url),
            "messages": sum(1 for m in account.messages.values() if m.direction != "inbound"),
            "callbacks": {
                "posted": sum(account.callback_answers.values()),
                "answers": dict(account.callback_answers),
            },
            "inbound": {
                "posted": sum(account.inbound_answers.values()),
                "answers": dict(account.inbound_answers),
            },
        }
    )


async def _session(app: web.Application) -> AsyncIterator[None]:
    runtime = Runtime(session=ClientSession(timeout=ClientTimeout(total=10)))
    app[RUNTIME] = runtime
    yield
    for task in list(runtime.tasks):
        task.cancel()
    await runtime.session.close()


def build_app(options: Options) -> web.Application:
    app = web.Application(middlewares=[twilio_errors])
    app[ACCOUNT] = Account.create(options)
    app.cleanup_ctx.append(_session)
    accounts = "/2010-04-01/Accounts/{account_sid}"
    app.add_routes(
        [
            web.get(accounts + ".json", account_fetch),
            web.get(accounts + "/IncomingPhoneNumbers.json", numbers_list),
            web.post(accounts + "/IncomingPhoneNumbers/{number_sid}.json", number_update),
            web.get(accounts + "/SMS/ShortCodes.json", short_codes_list),
            web.post(accounts + "/Messages.json", message_create),
            web.get(accounts + "/Messages.json", messages_list),
            web.get(accounts + "/Messages/{message_sid}.json", message_fetch),
            web.get("/v1/Services", services_list),
            web.get("/v1/Services/{service_sid}", service_fetch),
            web.get("/v1/Services/{service_sid}/PhoneNumbers", service_numbers),
            web.get("/v1/Tollfree/Verifications", toll_free_verifications),
            web.get("/sandbox/", phones),
            web.post("/sandbox/inbound", inbound),
            web.get("/sandbox/stats", stats),
        ]
    )
    return app


def describe(options: Options, url: str) -> str:
    """What the command prints on start: everything a script needs to use the sandbox."""
    lines = [
        f"Twilio sandbox listening on {url}",
        f"  Account SID:  {options.account_sid}",
        f"  Auth Token:   {options.auth_token}",
        f"  Numbers:      {', '.join(options.numbers)}",
        f"  Phones page:  {url}/sandbox/",
        f"  Use it with:  TWILIO_API_BASE_URL={url} TWILIO_MESSAGING_BASE_URL={url}",
    ]
    return "\n".join(lines)
