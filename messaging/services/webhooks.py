"""Twilio posting to us (steps 4 and 5): status callbacks and inbound messages.

Both verify ``X-Twilio-Signature`` with the tenant's Auth Token over ``PUBLIC_BASE_URL`` +
path + query (the address Twilio was given, never the Host a proxy passed on), make no network
call, and change nothing for a request that fails verification but the connection's
last-webhook record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction

from connections.crypto import decrypt
from connections.models import Connection
from connections.selectors import twilio_credentials
from connections.services.connections import connection_record_webhook
from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_help, consent_opt_in, consent_opt_out
from contacts.services.contacts import contact_create
from contacts.services.phones import phone_normalize
from messaging import signals
from messaging.models import Direction, Message, MessageEvent, Status
from messaging.services.callback_sql import StatusMove, callback_target, callback_write
from messaging.services.outbound import (
    message_received_record,
    status_changed_wanted,
)
from tenants.errors import ApplicationError
from tenants.sources import Source

logger = logging.getLogger(__name__)

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}

# Twilio's message SIDs are two letters and 32 hex digits (SM…, MM…): 34 characters, the width
# of our SID columns.
SID_LENGTH = 34
# Error codes are stored in a positive 32-bit integer column; Twilio's are five digits.
ERROR_CODE_MAX = 2_147_483_647
# No database text column can hold NUL (PostgreSQL refuses it), so a NUL Twilio passes on
# from a handset is stored as U+FFFD, the character for "something unreadable was here".
NUL, REPLACEMENT = "\x00", "\ufffd"


def _signed_urls(url: str) -> Iterator[str]:
    """The URL Twilio was given, then the variant Twilio may have signed instead: with the
    scheme's default port added, or with the port removed."""
    yield url
    parts = urlsplit(url)
    if parts.port is None:
        port = 443 if parts.scheme == "https" else 80
        yield urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))
    else:
        yield urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))


def signature_valid(token: str, path: str, params: Mapping[str, str], signature: str) -> bool:
    """Twilio's algorithm: HMAC-SHA1 with the Auth Token over the public URL followed by each
    parameter's name and value, sorted by name, in Base64."""
    # A real signature is Base64, so ASCII; comparing a str that is not raises TypeError.
    if not signature or not signature.isascii():
        return False
    key = token.encode()
    tail = "".join(f"{name}{params[name]}" for name in sorted(params))
    for url in _signed_urls(f"{settings.PUBLIC_BASE_URL}{path}"):
        digest = hmac.new(key, f"{url}{tail}".encode(), hashlib.sha1).digest()
        if hmac.compare_digest(base64.b64encode(digest).decode(), signature):
            return True
    return False


class Rejected(Exception):
    """The request did not prove it came from Twilio for this organization."""


# --- Parsing what Twilio posted (after the signature was checked over it as it came) ----------


def _clean(value: str) -> str:
    return value.replace(NUL, REPLACEMENT)


def _cleaned(params: Mapping[str, str]) -> dict[str, str]:
    """The parameters as they can be stored: NUL replaced in names and values."""
    return {_clean(name): _clean(value) for name, value in params.items()}


def _sid(params: Mapping[str, str]) -> str:
    """The message SID, or "" when the value cannot be one of Twilio's (too long for the
    column, or not printable ASCII): such a value is kept in the event's parameters only."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if len(sid) > SID_LENGTH or not (sid.isascii() and sid.isprintable()):
        return ""
    return sid


def _error_code(raw: str) -> int | None:
    """Twilio's ``ErrorCode`` when it is a whole number the column can hold (1 to 2**31 - 1); any
    other value (negative, zero, 40 digits, not a number) is no code: the callback still
    counts, the value stays in the event's parameters."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    code = int(text)
    return code if 1 <= code <= ERROR_CODE_MAX else None


def status_callback_apply(
    *, public_id: UUID, path: str, params: Mapping[str, str], signature: str
) -> bool:
    """Verifies, records the event once, moves the status forward. False for an unknown
    message (or one retention deleted): nothing to do, and Twilio need not retry."""
    target = callback_target(public_id)
    if target is None:
        return False
    token = decrypt(target.auth_token_encrypted) if target.auth_token_encrypted else None
    valid = token is not None and signature_valid(token.reveal(), path, params, signature)
    if target.connection_id is not None:
        connection_record_webhook(
            connection_id=target.connection_id,
            last_webhook_at=target.last_webhook_at,
            signature_valid=valid,
        )
    if not valid:
        raise Rejected
    sid = _sid(params)
    code = _error_code(params.get("ErrorCode", ""))
    params = _cleaned(params)
    # An event's status column holds 32 characters; Twilio's longest status has 11.
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "")[:32]
    moved = callback_write(
        message_id=target.message_id,
        move=StatusMove.to(status, sid=sid, error_code=code),
        params=params,
        callback_key=f"{sid}:{status}:{code or ''}"[:80],
        # With an outbound webhook subscribed, the move's event is recorded with it.
        announce_to=target.organization_id
        if status_changed_wanted(target.organization_id)
        else None,
    )
    if moved:
        signals.status_changed_after_commit(
            organization_id=target.organization_id,
            messages=[(target.message_id, target.contact_id)],
            status=status,
            error_code=code,
            source=Source.WEBHOOK,
        )
    return True


@dataclass(frozen=True)
class InboundResult:
    message: Message
    reply: str


def _keyword(body: str, opt_out_type: str) -> str:
    """STOP, START, HELP or "": Twilio's OptOutType wins over the words of the body. A NUL
    around the word (a handset's padding) counts as a space; one inside it makes no keyword."""
    kind = opt_out_type.replace(NUL, " ").strip().upper()
    if kind in ("STOP", "START", "HELP"):
        return kind
    word = body.replace(NUL, " ").strip().upper()
    if word in STOP_WORDS:
        return "STOP"
    if word in START_WORDS:
        return "START"
    if word in HELP_WORDS:
        return "HELP"
    return ""


def inbound_receive(
    *, connection: Connection, path: str, params: Mapping[str, str], signature: str
) -> InboundResult | None:
    """Stores the reply, applies consent, announces it. None when Twilio repeats itself."""
    credentials = twilio_credentials(connection)  # select_related by the view: no query
    valid = credentials is not None and signature_valid(
        credentials.auth_token().reveal(), path, params, signature
    )
    connection_record_webhook(
        connection_id=connection.pk,
        last_webhook_at=connection.last_webhook_at,
        signature_valid=valid,
    )
    if not valid:
        raise Rejected
    organization = connection.organization
    # A SID longer than Twilio's (or not ASCII) cannot be Twilio's, yet the request is signed
    # with the organization's Auth Token: the message is stored without the SID rather than
    # refused, so that what the person wrote (a STOP above all) is never lost. The value stays
    # in the event's parameters; without a SID a repeated post is not recognised as one.
    sid = _sid(params)
    keyword = _keyword(params.get("Body", ""), params.get("OptOutType", ""))
    params = _cleaned(params)
    body = params.get("Body", "")
    try:
        phone = phone_normalize(params.get("From", ""), organization.default_country)
    except ApplicationError:
        phone = params.get("From", "")[:16]
    with transaction.atomic():
        if sid and Message.objects.filter(sid=sid).exists():
            return None
        contact = Contact.objects.filter(organization=organization, phone=phone).first()
        if contact is None and phone.startswith("+"):
            try:
                contact = contact_create(organization=organization, phone=phone, source="inbound")
            except ApplicationError:
                contact = None
        message = Message.objects.create(
            organization=organization,
            direction=Direction.INBOUND,
            contact=contact,
            connection=connection,
            to=params.get("To", "")[:20],
            from_number=phone[:20],
            body=body,
            sid=sid or None,
            status=Status.RECEIVED,
            source="inbound",
        )
        MessageEvent.objects.create(message=message, status=Status.RECEIVED, params=dict(params))
        source = (
            ConsentSource.TWILIO_OPT_OUT_TYPE
            if params.get("OptOutType")
            else ConsentSource.INBOUND_KEYWORD
        )
        reply = ""
        if keyword == "STOP":
            consent_opt_out(
                organization=organization,
                phone=phone,
                source=source,
                message_sid=sid,
                actor="the person (reply)",
            )
        elif keyword == "START":
            consent_opt_in(
                organization=organization,
                phone=phone,
                source=source,
                message_sid=sid,
                actor="the person (reply)",
            )
        elif keyword == "HELP":
            consent_help(organization=organization, phone=phone, source=source, message_sid=sid)
            reply = organization.help_reply.strip()
        message_received_record(message)
        message_id, contact_id = message.pk, contact.pk if contact else None
        transaction.on_commit(
            lambda: signals.inbound_received.send(
                sender=None,
                organization_id=organization.pk,
                contact_ids=[contact_id] if contact_id else [],
                source="inbound",
                message_id=message_id,
                contact_id=contact_id,
                body=body,
                is_keyword=bool(keyword),
            )
        )
    return InboundResult(message=message, reply=reply)


def twiml(reply: str = "") -> str:
    if not reply:
        return '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{escape(reply)}</Message></Response>"
    )
