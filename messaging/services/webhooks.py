"""Twilio posting to us (steps 4 and 5): status callbacks and inbound messages.

Both verify ``X-Twilio-Signature`` with the tenant's Auth Token over ``PUBLIC_BASE_URL`` +
path + query (the address Twilio was given, never the Host a proxy passed on), make no network
call, and change nothing for a request that fails verification but the connection's
last-webhook record.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    F,
    PositiveIntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from twilio.request_validator import RequestValidator

from connections.models import Connection, TwilioCredentials
from connections.services.connections import connection_record_webhook
from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_help, consent_opt_in, consent_opt_out
from contacts.services.contacts import contact_create
from contacts.services.phones import phone_normalize
from messaging import signals
from messaging.models import RANK, Direction, Message, MessageEvent, Status
from tenants.errors import ApplicationError

logger = logging.getLogger(__name__)

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}

DELIVERY_ERRORS = {
    30001: "Twilio's queue for this sender overflowed.",
    30002: "The Twilio account was suspended.",
    30003: "The handset is unreachable (off, out of coverage, or full).",
    30004: "The recipient blocked the message, or the number cannot receive texts.",
    30005: "The number does not exist or is not in service.",
    30006: "The number is a landline or a carrier that cannot receive texts.",
    30007: "The carrier filtered the message (often spam filtering of unregistered traffic).",
    30008: "Delivery failed for a reason the carrier did not give.",
    30034: "US carriers blocked it: the sender is a local number not registered for A2P 10DLC.",
}


def signature_valid(token: str, path: str, params: Mapping[str, str], signature: str) -> bool:
    """Twilio's algorithm over the public URL; the validator also tries it with and without
    the default port, as Twilio signs either."""
    if not signature:
        return False
    url = f"{settings.PUBLIC_BASE_URL}{path}"
    return bool(RequestValidator(token).validate(url, dict(params), signature))


def _token(connection: Connection | None) -> str | None:
    if connection is None:
        return None
    try:
        credentials = connection.twilio  # select_related by the views: no query
    except TwilioCredentials.DoesNotExist:
        return None
    return credentials.auth_token().reveal()


def explain(code: int | None) -> str:
    if code is None:
        return ""
    return DELIVERY_ERRORS.get(code, f"Twilio error {code}.")


def _allowed_before(status: str) -> list[str]:
    """The statuses a message may move from, to ``status``: forward only, and the first final
    status stays (only ``delivered`` may still become ``read``)."""
    rank = RANK[Status(status)]
    earlier: list[str] = [s for s, r in RANK.items() if r < rank]
    if status == Status.READ:
        return [s for s in earlier if s not in (Status.UNDELIVERED, Status.FAILED, Status.CANCELED)]
    return earlier


class Rejected(Exception):
    """The request did not prove it came from Twilio for this organization."""


def status_callback_apply(
    *, message: Message, path: str, params: Mapping[str, str], signature: str
) -> None:
    """Verifies, records the event once, moves the status forward (two statements)."""
    connection = message.connection
    token = _token(connection)
    valid = token is not None and signature_valid(token, path, params, signature)
    if connection is not None:
        connection_record_webhook(connection=connection, signature_valid=valid)
    if not valid:
        raise Rejected
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    try:
        code: int | None = int(params["ErrorCode"]) if params.get("ErrorCode") else None
    except ValueError:
        code = None
    fields: dict[str, Any] = {"updated_at": timezone.now()}
    if sid:
        # Stored even when the callback beats the send task's own answer.
        fields["sid"] = Coalesce(F("sid"), Value(sid), output_field=CharField())
    if status in RANK:
        # Forward only, in the same statement: a repeated or late callback changes nothing.
        moves = Q(status__in=_allowed_before(status))
        fields["status"] = Case(
            When(moves, then=Value(status)), default=F("status"), output_field=CharField()
        )
        if code is not None:
            fields["error_code"] = Case(
                When(moves, then=Value(code)),
                default=F("error_code"),
                output_field=PositiveIntegerField(),
            )
            fields["error_message"] = Case(
                When(moves, then=Value(explain(code))),
                default=F("error_message"),
                output_field=CharField(),
            )
    with transaction.atomic():
        MessageEvent.objects.bulk_create(
            [
                MessageEvent(
                    message=message,
                    status=status,
                    error_code=code,
                    params=dict(params),
                    callback_key=f"{sid}:{status}:{code or ''}"[:80],
                )
            ],
            ignore_conflicts=True,  # the same callback twice is one event
        )
        Message.objects.filter(pk=message.pk).update(**fields)


@dataclass(frozen=True)
class InboundResult:
    message: Message
    reply: str


def _keyword(body: str, opt_out_type: str) -> str:
    """STOP, START, HELP or "": Twilio's OptOutType wins over the words of the body."""
    if opt_out_type.upper() in ("STOP", "START", "HELP"):
        return opt_out_type.upper()
    word = body.strip().upper()
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
    token = _token(connection)
    valid = token is not None and signature_valid(token, path, params, signature)
    connection_record_webhook(connection=connection, signature_valid=valid)
    if not valid:
        raise Rejected
    organization = connection.organization
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    body = params.get("Body", "")
    try:
        phone = phone_normalize(params.get("From", ""), organization.default_country)
    except ApplicationError:
        phone = params.get("From", "")[:16]
    keyword = _keyword(body, params.get("OptOutType", ""))
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
