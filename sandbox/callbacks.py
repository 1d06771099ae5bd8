"""The sandbox calling back like Twilio: status callbacks after a create, inbound messages
to a number's SMS URL, and its own pages (phones, stats, arrivals)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from sandbox import pages
from sandbox.faults import post_callback
from sandbox.state import Message, now_utc, segments, sid
from sandbox.web import ACCOUNT, RUNTIME, post_signed


async def deliver(app: web.Application, message: Message) -> None:
    """Moves the message through Twilio's statuses, posting each to its StatusCallback."""
    account = app[ACCOUNT]
    options = account.options
    final, error_code = account.outcome(message.to)
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
        await post_callback(app, message.status_callback, params)
    message.status = final


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


async def outcomes(request: web.Request) -> web.StreamResponse:
    """Sets how every later message to one phone ends (the phones page's choice, or JSON
    ``{"phone": "+1…", "outcome": "undelivered-30003"}`` from a script)."""
    account = request.app[ACCOUNT]
    from_page = request.content_type != "application/json"
    data: dict[str, Any] = dict(await request.post()) if from_page else await request.json()
    phone = str(data.get("phone", "")).strip()
    try:
        account.set_outcome(phone, str(data.get("outcome", "")).strip())
    except ValueError as error:
        return web.json_response({"error": str(error)}, status=400)
    if from_page:
        raise web.HTTPSeeOther(f"/sandbox/#{pages.anchor(phone)}")
    return web.json_response(
        {"phone": phone, "outcome": account.phone_outcomes.get(phone, "random")}
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
                "retried": account.callback_retried,
                "held": len(request.app[RUNTIME].held),
            },
            "faults": dict(account.faults),
            "up": request.app[RUNTIME].up.is_set(),
            "inbound": {
                "posted": sum(account.inbound_answers.values()),
                "answers": dict(account.inbound_answers),
            },
        }
    )


async def arrivals(request: web.Request) -> web.Response:
    """``{"arrivals": {recipient: [epoch seconds of each create, in order]}}``: when each
    outbound message was stored (``Account.arrivals``), so a benchmark can time an event to
    its message's arrival and count repeats per recipient."""
    return web.json_response({"arrivals": request.app[ACCOUNT].arrivals()})
