"""An incoming webhook: another system posts a contact to one automation's URL
(``automations/webhooks.py`` is the view; docs/architecture.md §6).

The body is checked whole before anything is written, and every problem names its field.
Then, in one transaction: the automation is locked and must still take contacts (else a
``ConflictError`` and nothing is stored: not even the contact), the contact is upserted by
phone through ``contact_upsert``, and enrolled. The answer is
``{"contact": <id>, "enrolled": true|false, "reason": <words>|null}``.

A repeated ``event_id`` (or ``Idempotency-Key``) is the same event: within 24 hours it gets
the first answer again and changes nothing (the API's idempotency rows); later, the
enrolment's occurrence key still keeps the contact from being enrolled twice for it, and the
answer says what the first time did.
"""

from __future__ import annotations

import hashlib
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from automations.models import Automation, AutomationRun, Reason, RunState, State
from automations.services.enrolment import runs_enrol
from automations.triggers.incoming_webhook import TRIGGER
from contacts.models import Contact
from contacts.services.contacts import contact_upsert, custom_fields_clean
from contacts.services.phones import phone_normalize
from contacts.services.tags import tag_names_clean
from tenants.errors import ApplicationError, ConflictError
from tenants.idempotency import idempotent
from tenants.sources import Source

FIELDS = (
    "phone",
    "first_name",
    "last_name",
    "email",
    "time_zone",
    "custom_fields",
    "tags",
    "event_id",
)
TEXT_FIELDS = ("first_name", "last_name", "email", "time_zone")
MAX_EVENT_ID = 80
MAX_TAGS = 20
# An enrolment's occurrence key has 80 characters, "skip:" and "webhook:" included.
MAX_KEY = 64


@dataclass(frozen=True)
class WebhookContact:
    """A checked body: the contact's fields as ``contact_upsert`` takes them (only those
    given), its tags, and the event's id ("" when the sender gave none)."""

    phone: str
    fields: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    event_id: str = ""


def _checked(errors: dict[str, list[str]], name: str, check: Any) -> Any:
    try:
        return check()
    except ApplicationError as error:
        errors.setdefault(name, []).extend(
            [text for texts in error.fields.values() for text in texts] or [error.message]
        )
        return None


def webhook_payload_clean(automation: Automation, data: object) -> WebhookContact:
    """The body as a ``WebhookContact``, or an ``ApplicationError`` naming every bad field.

    A field left out, ``null`` or ``""`` leaves the contact's value as it is: senders map
    empty form fields to empty values, and a webhook should not erase what is known."""
    if not isinstance(data, Mapping):
        raise ApplicationError(
            f"The body must be a JSON object with the fields {', '.join(FIELDS)}."
        )
    errors: dict[str, list[str]] = {}
    for name in data:
        if name not in FIELDS:
            errors[str(name)[:100]] = [f"Not a field of this webhook: use {', '.join(FIELDS)}."]
    organization = automation.organization
    phone = data.get("phone")
    if not isinstance(phone, str) or not phone.strip():
        errors["phone"] = ["Give the contact's phone number as text, such as +14155550123."]
    else:
        phone = _checked(
            errors, "phone", lambda: phone_normalize(phone, organization.default_country)
        )
    fields: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = data.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            errors[name] = ["Give it as text."]
            continue
        fields[name] = value.strip()
    if fields.get("email"):
        try:
            validate_email(fields["email"])
        except ValidationError:
            errors["email"] = [f"“{fields['email'][:100]}” is not an email address."]
    if fields.get("time_zone") and fields["time_zone"] not in zoneinfo.available_timezones():
        errors["time_zone"] = [
            f"“{fields['time_zone'][:100]}” is not a time zone such as America/New_York."
        ]
    custom = data.get("custom_fields")
    if custom is not None:
        if not isinstance(custom, Mapping):
            errors["custom_fields"] = ["Give custom fields as an object of names and texts."]
        else:
            fields["custom_fields"] = _checked(
                errors, "custom_fields", lambda: custom_fields_clean(custom)
            )
    tags: list[str] = []
    raw_tags = data.get("tags")
    if raw_tags is not None:
        if not isinstance(raw_tags, list) or not all(isinstance(t, str) for t in raw_tags):
            errors["tags"] = ['Give tags as a list of names, such as ["vip", "webinar"].']
        elif len(raw_tags) > MAX_TAGS:
            errors["tags"] = [f"At most {MAX_TAGS} tags at a time."]
        else:
            tags = _checked(errors, "tags", lambda: tag_names_clean(raw_tags)) or []
    event_id = data.get("event_id")
    if event_id is None or event_id == "":
        event_id = ""
    elif isinstance(event_id, int) and not isinstance(event_id, bool):
        event_id = str(event_id)
    elif not isinstance(event_id, str) or len(event_id) > MAX_EVENT_ID:
        errors["event_id"] = [f"Give the event's id as text of at most {MAX_EVENT_ID} characters."]
    if errors:
        raise ApplicationError("Some fields are not valid.", fields=errors)
    return WebhookContact(phone=str(phone), fields=fields, tags=tags, event_id=str(event_id))


def webhook_refusal(automation: Automation) -> ConflictError | None:
    """Why the automation takes no contacts now, or None."""
    if automation.state != State.ACTIVE:
        words = {
            State.DRAFT: "is a draft: activate it",
            State.PAUSED: "is paused: resume it",
            State.ARCHIVED: "is archived: duplicate it and activate the copy",
        }.get(State(automation.state), "is not active")
        return ConflictError(f"This automation {words} to take contacts.", code="not_active")
    live = automation.live_version
    if live is None or live.definition["trigger"]["type"] != TRIGGER.type:
        return ConflictError(
            "This automation's live version is not triggered by an incoming webhook: publish "
            "the draft with that trigger first.",
            code="not_a_webhook",
        )
    return None


def occurrence_key(event_key: str) -> str:
    """The enrolments' key for this event: the sender's event id or ``Idempotency-Key``
    (hashed when too long), else a fresh one, so that every post is an event of its own."""
    if not event_key:
        return f"webhook:{uuid.uuid4().hex}"
    if len(event_key) > MAX_KEY:
        return f"webhook:{hashlib.sha256(event_key.encode()).hexdigest()}"
    return f"webhook:{event_key}"


def _upsert(automation: Automation, payload: WebhookContact) -> Contact:
    try:
        return _upsert_once(automation, payload)
    except ConflictError as error:
        # Posts to two automations for one new number at once: the other one created the
        # contact meanwhile (this one's insert waited for it); update that contact instead.
        if error.code != "duplicate_phone":
            raise
        return _upsert_once(automation, payload)


def _upsert_once(automation: Automation, payload: WebhookContact) -> Contact:
    organization = automation.organization
    fields = dict(payload.fields)
    if "custom_fields" in fields:
        # contact_upsert replaces a contact's custom fields; a webhook sets the ones it names
        # and keeps the rest. The row is locked so that two posts for one contact both count.
        existing = (
            Contact.objects.select_for_update()
            .filter(organization=organization, phone=payload.phone)
            .values_list("custom_fields", flat=True)
            .first()
        )
        fields["custom_fields"] = {**(existing or {}), **fields["custom_fields"]}
    contact, _created = contact_upsert(
        organization=organization,
        phone=payload.phone,
        source=Source.WEBHOOK,
        tags=payload.tags,
        **fields,
    )
    return contact


def _answer(contact: Contact, run: AutomationRun | None) -> dict[str, Any]:
    if run is None:  # the unique occurrence refused it: enrolled by a racing event
        return {
            "contact": str(contact.public_id),
            "enrolled": False,
            "reason": Reason.REENTRY.label,
        }
    if run.state == RunState.SKIPPED:
        # The words the automation's page gives ("Does not match the entry rules: lacks the
        # tag vip"), as funnels.reason_words says them (a service does not import the pages').
        words = str(Reason(run.reason).label) if run.reason in Reason.values else run.reason
        reason = f"{words}: {run.detail}" if run.detail else words
        return {"contact": str(contact.public_id), "enrolled": False, "reason": reason}
    return {"contact": str(contact.public_id), "enrolled": True, "reason": None}


def _receive(automation: Automation, payload: WebhookContact, key: str) -> tuple[int, Any]:
    with transaction.atomic():
        # Locked first, so that a pause cannot slip in between the upsert and the enrolment:
        # refused, the transaction rolls back and the contact is not stored either.
        locked = (
            Automation.objects.select_for_update(of=("self",))
            .select_related("live_version", "organization")
            .get(pk=automation.pk)
        )
        refusal = webhook_refusal(locked)
        if refusal is not None:
            raise refusal
        contact = _upsert(locked, payload)
        runs_enrol(automation=locked, contact_ids=[contact.pk], key=key, source=Source.WEBHOOK)
        run = (
            AutomationRun.objects.filter(automation=locked, contact=contact, event_key=key)
            .order_by("-created_at", "-pk")
            .first()
        )
        return 200, _answer(contact, run)


@dataclass(frozen=True)
class Received:
    status: int
    body: dict[str, Any]
    replayed: bool  # the first answer to this event, given again


def webhook_receive(
    *, automation: Automation, payload: WebhookContact, idempotency_key: str = ""
) -> Received:
    """Upserts and enrols the posted contact (see the module's docstring); raises the
    ``ConflictError`` of ``webhook_refusal`` with nothing stored."""
    event_key = payload.event_id or idempotency_key
    key = occurrence_key(event_key)
    if not event_key:
        status, body = _receive(automation, payload, key)
        return Received(status, body, replayed=False)
    ran: list[bool] = []

    def run() -> tuple[int, Any]:
        ran.append(True)
        return _receive(automation, payload, key)

    try:
        status, body = idempotent(
            organization=automation.organization,
            # Per automation: one event posted to two automations' URLs enrols in both.
            key=f"webhook:{automation.public_id}:{event_key}",
            data={"webhook": str(automation.public_id), "body": _fingerprinted(payload)},
            run=run,
        )
    except ConflictError as error:
        if error.code != "idempotency_key_reused":
            raise
        name = "event_id" if payload.event_id else "Idempotency-Key"
        message = (
            f"This {name} was already used with a different contact or fields in the last 24 "
            "hours: give each event its own id. Nothing was stored."
        )
        raise ConflictError(message, code="event_id_reused", fields={name: [message]}) from None
    return Received(status, body, replayed=not ran)


def _fingerprinted(payload: WebhookContact) -> dict[str, Any]:
    # What makes two posts the same request: the checked body (so "+1 415…" and "+1415…" are).
    return {"phone": payload.phone, "fields": payload.fields, "tags": payload.tags}


def webhook_url(automation: Automation) -> str:
    """The automation's incoming webhook, as senders reach it (its secret included)."""
    path = reverse("automation_webhook", args=[automation.public_id, automation.webhook_secret])
    return f"{settings.PUBLIC_BASE_URL}{path}"
