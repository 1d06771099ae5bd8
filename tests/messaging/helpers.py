"""Shared set-up for the sending tests: Twilio's Message resource at the HTTP level.

``message_json`` builds a Message exactly as Twilio returns it from
``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``; ``messages_create`` registers that
endpoint on a ``responses`` mock (an answer echoing the request, a Twilio error, or a transport
exception); ``forms`` reads back, parsed, every form the app posted there.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import responses
from django.utils import timezone

from contacts.models import Contact
from contacts.services.contacts import contact_create
from messaging import ratelimit
from messaging.models import Message
from messaging.services.sending import message_send
from tests import twilio_mocks as tw

MESSAGES_URL = f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/Messages.json"
STATUS_CALLBACK = "https://hub.example.com/webhooks/twilio/status/"
API_VERSION = "2010-04-01"

Form = dict[str, list[str]]


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


def message_json(
    *,
    to: str,
    body: str,
    from_: str | None = tw.NUMBER,
    sid: str | None = None,
    status: str = "queued",
    messaging_service_sid: str | None = None,
    num_segments: str = "1",
    num_media: str = "0",
    created: datetime.datetime | None = None,
) -> dict[str, Any]:
    """A Message resource as Twilio's API answers a create (HTTP 201)."""
    sid = sid or new_sid()
    when = email.utils.format_datetime((created or timezone.now()).astimezone(datetime.UTC))
    path = f"/{API_VERSION}/Accounts/{tw.ACCOUNT_SID}/Messages/{sid}"
    return {
        "account_sid": tw.ACCOUNT_SID,
        "api_version": API_VERSION,
        "body": body,
        "date_created": when,
        "date_sent": None,
        "date_updated": when,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": from_,
        "messaging_service_sid": messaging_service_sid,
        "num_media": num_media,
        "num_segments": num_segments,
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {"media": f"{path}/Media.json"},
        "to": to,
        "uri": f"{path}.json",
    }


def form_of(request: Any) -> Form:
    body = request.body or ""
    if isinstance(body, bytes):
        body = body.decode()
    return parse_qs(body, keep_blank_values=True)


def messages_create(
    rsps: responses.RequestsMock,
    *,
    sid: str | None = None,
    status: str = "queued",
    during: Callable[[Form], None] | None = None,
) -> list[str]:
    """``POST .../Messages.json`` answered 201 with a Message echoing the request's fields.

    ``during`` runs while Twilio "handles" the request (a status callback arriving, say).
    Returns the list the SIDs handed out are appended to, in order.
    """
    issued: list[str] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        form = form_of(request)
        if during is not None:
            during(form)
        media = form.get("MediaUrl", [])
        payload = message_json(
            to=form["To"][0],
            body=form.get("Body", [""])[0],
            from_=form.get("From", [None])[0],
            messaging_service_sid=form.get("MessagingServiceSid", [None])[0],
            sid=sid,
            status=status,
            num_media=str(len(media)),
        )
        issued.append(payload["sid"])
        return 201, {"Content-Type": "application/json"}, json.dumps(payload)

    rsps.add_callback(responses.POST, MESSAGES_URL, callback=answer)
    return issued


def messages_refuse(
    rsps: responses.RequestsMock, code: int, http_status: int, message: str
) -> None:
    """``POST .../Messages.json`` answered with Twilio's error body."""
    rsps.post(MESSAGES_URL, json=tw.error(code, http_status, message), status=http_status)


def messages_raise(rsps: responses.RequestsMock, exception: Exception) -> None:
    """``POST .../Messages.json`` failing in transport (a read timeout, say)."""
    rsps.post(MESSAGES_URL, body=exception)


def forms(rsps: responses.RequestsMock) -> list[Form]:
    """Every form posted to Twilio's Messages endpoint, in order."""
    return [
        form_of(call.request)
        for call in rsps.calls
        if call.request.method == "POST" and call.request.url == MESSAGES_URL
    ]


def expected_form(message: Message, *, to: str, body: str, media_url: str = "") -> Form:
    """What the app must post for ``message`` from the fixture account's local number."""
    form = {
        "To": [to],
        "From": [tw.NUMBER],
        "Body": [body],
        "StatusCallback": [f"{STATUS_CALLBACK}{message.public_id}"],
    }
    if media_url:
        form["MediaUrl"] = [media_url]
    return form


def limiter(monkeypatch: Any, take: Callable[..., float]) -> None:
    """The send task's limiter answering message by message as ``take(key, rate=, cost=)``
    says (0: a slot; more: wait that long), stopping at the first refusal as the real one."""

    def take_many(key: str, *, rate: float, costs: list[int]) -> tuple[int, float]:
        for taken, cost in enumerate(costs):
            wait = take(key, rate=rate, cost=cost)
            if wait > 0:
                return taken, wait
        return len(costs), 0.0

    monkeypatch.setattr(ratelimit, "take_many", take_many)
    # Reserves nothing: the batch comes back when ``take`` said, and asks again.
    monkeypatch.setattr(ratelimit, "reserve_many", lambda key, **_: (0, 0.0))


def unlimited(monkeypatch: Any) -> None:
    """The sender's rate limit always has a slot (for tests about something else)."""
    limiter(monkeypatch, lambda key, *, rate, cost=1: 0.0)


def make_contact(personas: Any, phone: str, **data: Any) -> Contact:
    return contact_create(organization=personas.org, source="ui", phone=phone, **data)


def send_now(capture: Any, personas: Any, **kwargs: Any) -> Message:
    """``message_send`` in a transaction that commits, so a due message is sent (eager task).

    ``capture`` is pytest-django's ``django_capture_on_commit_callbacks``.
    """
    with capture(execute=True):
        message = message_send(organization=personas.org, source="test", **kwargs)
    message.refresh_from_db()
    return message


class Clock:
    """``django.utils.timezone.now`` under the test's control."""

    def __init__(self, monkeypatch: Any, at: datetime.datetime) -> None:
        self.now = at
        monkeypatch.setattr("django.utils.timezone.now", self)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> datetime.datetime:
        self.now += datetime.timedelta(**delta)
        return self.now
