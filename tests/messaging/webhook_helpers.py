"""Twilio posting to our webhooks, for tests: real-shaped forms, signed the way Twilio signs.

The forms come from ``tests/fixtures/twilio/`` (``status_callback.json``, ``inbound_sms.json``)
with the values of the case at hand filled in. Twilio signs a webhook with the account's Auth
Token over the URL it was given (``PUBLIC_BASE_URL`` + path + query, which tests set to
``https://hub.example.com``) followed by the sorted form fields, and sends the result in
``X-Twilio-Signature``; it posts the form url-encoded.

``bad_signature`` builds each way a request can fail to prove that it came from Twilio for
the organization: no signature, a forged one, one over another form, one made with another
organization's token, and ones made over the address the app sees behind its proxy.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import urlencode

from django.test import Client
from twilio.request_validator import RequestValidator

from connections.models import Connection
from messaging.models import Message
from tests import twilio_mocks as tw

PUBLIC_BASE_URL = "https://hub.example.com"  # PUBLIC_BASE_URL under tests (tests/environment.py)
INTERNAL_BASE_URL = "http://testserver"  # what the app itself sees behind the proxy
SIGNATURE_HEADER = "X-Twilio-Signature"
STATUS_PATH = "/webhooks/twilio/status/"
INBOUND_PATH = "/webhooks/twilio/inbound/"
CUSTOMER = "+14155550123"
# Organization B's Twilio Auth Token: another account's secret than the fixture's.
OTHER_TOKEN = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"

# Each way a signature can fail, for ``bad_signature``.
BAD_SIGNATURES = (
    "missing",
    "forged",
    "over_another_form",
    "another_organizations_token",
    "over_the_internal_url",
    "over_the_proxied_host",
)

Form = dict[str, str]


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


def status_path(message: Message | str) -> str:
    key = message.public_id if isinstance(message, Message) else message
    return f"{STATUS_PATH}{key}"


def inbound_path(connection: Connection | str) -> str:
    key = connection.inbound_key if isinstance(connection, Connection) else connection
    return f"{INBOUND_PATH}{key}"


def _fixture(name: str) -> Form:
    data: dict[str, Any] = tw.load(name)
    return {key: str(value) for key, value in data.items()}


def status_form(
    *,
    sid: str,
    status: str,
    to: str = CUSTOMER,
    error_code: int | None = None,
    **changes: str,
) -> Form:
    """A status callback as Twilio posts it; ``ErrorCode`` only when given (failures)."""
    form = _fixture("status_callback")
    form.update(MessageSid=sid, SmsSid=sid, MessageStatus=status, SmsStatus=status, To=to)
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    form.update(changes)
    return form


def inbound_form(
    *, body: str, from_: str = CUSTOMER, sid: str | None = None, **changes: str
) -> Form:
    """An incoming SMS as Twilio posts it to the number's webhook (a new SID unless given)."""
    sid = sid or new_sid()
    form = _fixture("inbound_sms")
    form.update(Body=body, From=from_, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    form.update(changes)
    return form


def sign(path: str, form: Form, *, token: str = tw.AUTH_TOKEN, base: str = PUBLIC_BASE_URL) -> str:
    """Twilio's ``X-Twilio-Signature`` for ``form`` posted to ``base + path`` (query included)."""
    signature: str = RequestValidator(token).compute_signature(f"{base}{path}", form)
    return signature


def post(client: Client, path: str, form: Form, *, signature: str | None) -> Any:
    """Posts ``form`` url-encoded, as Twilio does, with the signature header unless None."""
    headers = {} if signature is None else {SIGNATURE_HEADER: signature}
    return client.post(
        path,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def post_signed(
    client: Client,
    path: str,
    form: Form,
    *,
    token: str = tw.AUTH_TOKEN,
    base: str = PUBLIC_BASE_URL,
) -> Any:
    return post(client, path, form, signature=sign(path, form, token=token, base=base))


def bad_signature(way: str, path: str, form: Form) -> str | None:
    """A signature header value that must be refused, made in the way ``way`` names."""
    if way == "missing":
        return None
    if way == "forged":
        return base64.b64encode(b"not-a-real-hmac-sha1-").decode()
    if way == "over_another_form":
        return sign(path, {**form, "Body": "tampered", "MessageStatus": "tampered"})
    if way == "another_organizations_token":
        return sign(path, form, token=OTHER_TOKEN)
    if way == "over_the_internal_url":
        return sign(path, form, base=INTERNAL_BASE_URL)
    if way == "over_the_proxied_host":
        return sign(path, form, base="https://testserver")
    raise ValueError(way)


def last_webhook(connection: Connection) -> tuple[Any, bool | None]:
    """The connection's last-webhook record, as stored: (last_webhook_at, signature valid)."""
    row = Connection.objects.values_list("last_webhook_at", "last_webhook_signature_valid").get(
        pk=connection.pk
    )
    return row[0], row[1]
