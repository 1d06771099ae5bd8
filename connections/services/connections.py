"""A connection's life: connect, re-verify, configure, rotate, disconnect, and its health."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from connections.crypto import encrypt
from connections.models import (
    DEFAULT_SEND_RATES,
    Connection,
    ConnectionKind,
    ConnectionState,
    SenderType,
    TwilioCredentials,
    new_inbound_key,
)
from connections.selectors import twilio_credentials
from connections.services.twilio_verify import (
    TwilioFacts,
    TwilioInput,
    TwilioUnavailable,
    twilio_input_clean,
    twilio_verify,
)
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import ErrorKind, TwilioError
from tenants.actor import Actor
from tenants.audit.models import Action, TargetType
from tenants.audit.services import HIDDEN, REPLACED, Target, audit_record, changes_of
from tenants.errors import AccessDenied, ApplicationError, ConflictError
from tenants.models import Organization, Role

logger = logging.getLogger(__name__)

WEBHOOK_RECORD_INTERVAL = timedelta(minutes=1)


def inbound_webhook_url(connection: Connection) -> str:
    """Where Twilio posts replies to this organization's sender (routed by messaging: the URL
    is looked up by its name, so this room imports nothing of messaging)."""
    path = reverse("twilio_inbound", args=[connection.inbound_key])
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _require_admin(actor: Actor, organization: Organization) -> None:
    if actor.organization.pk != organization.pk or not actor.can(Role.ADMIN):
        raise AccessDenied("Only admins and owners manage the Twilio connection.")


def _audited(credentials: TwilioCredentials | None) -> dict[str, Any]:
    """What the audit log compares of the credentials (never the token)."""
    if credentials is None:
        return {}
    return {
        "account_sid": credentials.account_sid,
        "sender": credentials.sender_label,
        "sender_type": credentials.sender_type,
        # As stored (two places), whether it was read back or just set from a default.
        "send_rate": None if credentials.send_rate is None else f"{credentials.send_rate:.2f}",
    }


def _audit(connection: Connection, action: Action, by: Actor, changes: dict[str, Any]) -> None:
    target = Target.of(TargetType.CONNECTION, connection, ConnectionKind(connection.kind).label)
    audit_record(
        organization=connection.organization,
        action=action,
        target=target,
        changes=changes,
        actor=by,
    )


def _apply_facts(
    credentials: TwilioCredentials, data: TwilioInput, facts: TwilioFacts, token_changed: bool
) -> None:
    if token_changed or not credentials.auth_token_encrypted:
        token = data.auth_token.reveal()
        credentials.auth_token_encrypted = encrypt(token)
        credentials.auth_token_last4 = token[-4:]
    sender_changed = credentials.sender_type != facts.sender_type
    credentials.account_sid = data.account_sid
    credentials.account_name = facts.account_name[:200]
    credentials.account_type = facts.account_type[:16]
    credentials.phone_number = data.phone_number
    credentials.messaging_service_sid = data.messaging_service_sid
    credentials.phone_number_sid = facts.phone_number_sid
    credentials.sender_type = facts.sender_type
    credentials.sender_country = facts.sender_country
    credentials.sms_capable = facts.sms_capable
    credentials.compliance_state = facts.compliance_state
    credentials.compliance_detail = facts.compliance_detail[:300]
    if sender_changed or credentials.send_rate is None:
        credentials.send_rate = DEFAULT_SEND_RATES[SenderType(facts.sender_type)]


def twilio_connect(
    *,
    organization: Organization,
    by: Actor,
    account_sid: str,
    auth_token: str | None = None,
    phone_number: str = "",
    messaging_service_sid: str = "",
) -> Connection:
    """Checks the details with Twilio, then saves them. A failure saves nothing at all.

    The Auth Token may be left out to keep the stored one, when the Account SID is unchanged.
    """
    _require_admin(by, organization)
    connection = Connection.objects.filter(
        organization=organization, kind=ConnectionKind.TWILIO
    ).first()
    stored = twilio_credentials(connection)
    same_account = stored is not None and stored.account_sid == (account_sid or "").strip()
    data = twilio_input_clean(
        account_sid=account_sid,
        auth_token=auth_token,
        phone_number=phone_number,
        messaging_service_sid=messaging_service_sid,
        default_country=organization.default_country,
        stored_token=stored.auth_token() if stored and same_account else None,
    )
    facts = twilio_verify(data)  # network: outside any transaction

    with transaction.atomic():
        connection, _created = Connection.objects.select_for_update().get_or_create(
            organization=organization, kind=ConnectionKind.TWILIO
        )
        credentials = TwilioCredentials.objects.filter(connection=connection).first()
        before = _audited(credentials)
        if credentials is None:
            credentials = TwilioCredentials(connection=connection)
        token_changed = (
            not credentials.auth_token_encrypted or credentials.auth_token() != data.auth_token
        )
        _apply_facts(credentials, data, facts, token_changed)
        credentials.full_clean(exclude=["connection"])
        credentials.save()
        connection.state = ConnectionState.CONNECTED
        connection.verified_at = timezone.now()
        connection.last_error = ""
        connection.save(update_fields=["state", "verified_at", "last_error", "updated_at"])
        changes = changes_of(before, _audited(credentials))
        if before and token_changed:
            changes["auth_token"] = {"before": HIDDEN, "after": REPLACED}
        action = Action.CONNECTION_CHANGED if before else Action.CONNECTION_CONNECTED
        _audit(connection, action, by, changes)
    logger.info(
        "twilio connected: org=%s account=%s sender=%s (%s) by %s",
        organization.public_id,
        data.account_sid,
        credentials.sender_label,
        credentials.sender_type,
        by,
    )
    return connection


def twilio_reverify(*, connection: Connection, by: Actor) -> Connection:
    """Checks the stored details again: refreshes the sender's facts, or marks it failing."""
    _require_admin(by, connection.organization)
    credentials = twilio_credentials(connection)
    if credentials is None:
        raise ConflictError("There is no Twilio account connected to check.")
    data = TwilioInput(
        account_sid=credentials.account_sid,
        auth_token=credentials.auth_token(),
        phone_number=credentials.phone_number,
        messaging_service_sid=credentials.messaging_service_sid,
    )
    try:
        facts = twilio_verify(data)
    except TwilioUnavailable:
        raise
    except ApplicationError as exc:
        connection_mark_failing(connection=connection, reason=exc.message)
        raise
    with transaction.atomic():
        before = {**_audited(credentials), "state": connection.state}
        _apply_facts(credentials, data, facts, token_changed=False)
        credentials.save()
        Connection.objects.filter(pk=connection.pk).update(
            state=ConnectionState.CONNECTED,
            verified_at=timezone.now(),
            last_error="",
            updated_at=timezone.now(),
        )
        after = {**_audited(credentials), "state": ConnectionState.CONNECTED}
        _audit(connection, Action.CONNECTION_REVERIFIED, by, changes_of(before, after))
    connection.refresh_from_db()
    return connection


def connection_mark_failing(*, connection: Connection, reason: str) -> None:
    """Twilio refused the keys or the account: keep sending (it may pass) but show it."""
    updated = (
        Connection.objects.filter(pk=connection.pk)
        .exclude(state=ConnectionState.DISCONNECTED)
        .update(state=ConnectionState.FAILING, last_error=reason[:500], updated_at=timezone.now())
    )
    if updated:
        connection.state, connection.last_error = ConnectionState.FAILING, reason[:500]
        logger.warning("connection failing: %s: %s", connection.public_id, reason)


def connection_note_twilio_error(*, connection: Connection, error: TwilioError) -> None:
    """Called by senders: an authentication failure means the connection is failing."""
    if error.is_authentication_failure:
        connection_mark_failing(connection=connection, reason=error.message)


@transaction.atomic
def connection_disconnect(*, connection: Connection, by: Actor) -> Connection:
    """Erases the credentials; the row stays, for history and to keep its inbound key."""
    _require_admin(by, connection.organization)
    before = {**_audited(twilio_credentials(connection)), "state": connection.state}
    TwilioCredentials.objects.filter(connection=connection).delete()
    connection.state = ConnectionState.DISCONNECTED
    connection.last_error = ""
    connection.save(update_fields=["state", "last_error", "updated_at"])
    after = dict.fromkeys(before) | {"state": ConnectionState.DISCONNECTED}
    _audit(connection, Action.CONNECTION_DISCONNECTED, by, changes_of(before, after))
    logger.info("connection disconnected: %s by %s", connection.public_id, by)
    return connection


@transaction.atomic
def connection_rotate_inbound_key(*, connection: Connection, by: Actor) -> Connection:
    """A new inbound webhook URL; the old one stops working at once."""
    _require_admin(by, connection.organization)
    connection.inbound_key = new_inbound_key()
    connection.save(update_fields=["inbound_key", "updated_at"])
    changes = {"inbound_key": {"before": HIDDEN, "after": REPLACED}}
    _audit(connection, Action.CONNECTION_INBOUND_KEY_ROTATED, by, changes)
    logger.info("inbound key rotated: %s by %s", connection.public_id, by)
    return connection


def twilio_configure_number(*, connection: Connection, by: Actor) -> str:
    """Points the sender's incoming SMS webhook at us; returns the URL it was set to."""
    _require_admin(by, connection.organization)
    credentials = twilio_credentials(connection)
    if credentials is None:
        raise ConflictError("Connect a Twilio account first.")
    if credentials.sender_type == SenderType.MESSAGING_SERVICE:
        raise ConflictError(
            "A Messaging Service has its own incoming-message setting: in the Twilio Console, "
            "open the service's Integration page and paste the webhook URL there."
        )
    url = inbound_webhook_url(connection)
    gateway = TwilioGateway(credentials.account_sid, credentials.auth_token())
    try:
        if credentials.sender_type == SenderType.SHORT_CODE:
            gateway.set_short_code_sms_url(credentials.phone_number_sid, url)
        else:
            gateway.set_number_sms_url(credentials.phone_number_sid, url)
    except TwilioError as error:
        connection_note_twilio_error(connection=connection, error=error)
        if error.kind is ErrorKind.PERMANENT:
            raise ApplicationError(f"Twilio refused the change: {error.message}") from error
        raise TwilioUnavailable(f"Twilio could not be reached: {error.message}") from error
    # Twilio's number changed, not a row here: recorded once Twilio accepted it. The URL
    # carries the inbound key, so the log names where it points, not the URL.
    changes = {"incoming_sms_url": {"before": None, "after": "this hub's inbound webhook"}}
    _audit(connection, Action.CONNECTION_CHANGED, by, changes)
    logger.info("sms url configured: %s", connection.public_id)
    return url


@transaction.atomic
def twilio_set_send_rate(*, connection: Connection, send_rate: Decimal, by: Actor) -> None:
    _require_admin(by, connection.organization)
    credentials = twilio_credentials(connection)
    if credentials is None:
        raise ConflictError("Connect a Twilio account first.")
    # Read again: a form bound to the same instance has already set the new rate on it.
    before = _audited(TwilioCredentials.objects.get(pk=credentials.pk))
    credentials.send_rate = send_rate
    credentials.full_clean(exclude=["connection", "auth_token_encrypted"])
    credentials.save(update_fields=["send_rate"])
    changes = changes_of(before, _audited(credentials))
    if changes:
        _audit(connection, Action.CONNECTION_CHANGED, by, changes)


def connection_record_webhook(
    *, connection_id: int, last_webhook_at: datetime | None, signature_valid: bool
) -> bool:
    """Notes that Twilio reached us, at most one write a minute. True when it wrote.

    ``last_webhook_at`` is the value the request read: when that is recent, no query at all.
    """
    now = timezone.now()
    if last_webhook_at is not None and now - last_webhook_at < WEBHOOK_RECORD_INTERVAL:
        return False
    return bool(
        Connection.objects.filter(pk=connection_id)
        .filter(
            Q(last_webhook_at__isnull=True) | Q(last_webhook_at__lt=now - WEBHOOK_RECORD_INTERVAL)
        )
        .update(last_webhook_at=now, last_webhook_signature_valid=signature_valid)
    )
