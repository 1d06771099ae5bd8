"""The send service: the only way a message is created to go out (steps 1 and 2).

``message_send`` renders, applies the rules (``services.rules``) and writes the row in the
caller's transaction: ``suppressed`` with its reason, or ``pending`` with a due time; rows due
now are enqueued when the transaction commits. ``message_send_many`` does the same set-wise
for fan-outs. Nothing here talks to Twilio: the send task does (``services.submit``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from contacts.models import Contact
from contacts.services.phones import phone_normalize
from messaging.models import Message, MessageEvent, Status
from messaging.services import rules
from templates_sms.models import SmsTemplate
from templates_sms.preview import contact_values, message_text
from templates_sms.segments import count_segments
from tenants.errors import ApplicationError
from tenants.models import Organization

logger = logging.getLogger(__name__)

BATCH = 1000


@dataclass(frozen=True)
class Content:
    template: SmsTemplate | None
    body: str
    media_url: str


def _content(
    *, organization: Organization, template: SmsTemplate | None, body: str | None, media_url: str
) -> Content:
    if template is not None and template.organization_id != organization.pk:
        raise ApplicationError.for_field("template", "No such template.")
    if template is None and not (body or "").strip():
        raise ApplicationError.for_field("body", "Write a message or choose a template.")
    return Content(
        template, (body or "").strip(), media_url or (template.media_url if template else "")
    )


def _text(content: Content, organization: Organization, contact: Contact | None) -> str:
    if content.template is None:
        return content.body
    return message_text(
        body=content.template.body,
        append_footer=content.template.append_opt_out_footer,
        organization=organization,
        values=contact_values(contact, organization),
    )


def _due(
    *,
    organization: Organization,
    contact: Contact | None,
    send_after: datetime.datetime | None,
    respect_quiet_hours: bool,
    now: datetime.datetime,
) -> datetime.datetime | None:
    due = max(send_after, now) if send_after else None
    if respect_quiet_hours:
        zone = contact.time_zone if contact else organization.time_zone
        allowed = rules.next_allowed_instant(
            due or now,
            time_zone=zone,
            start=organization.send_window_start,
            end=organization.send_window_end,
        )
        if allowed > (due or now):
            due = allowed
    return due


def _enqueue_on_commit(message_ids: list[int]) -> None:
    if not message_ids:
        return

    def enqueue() -> None:
        from messaging.tasks import send_message  # tasks import services, not the reverse

        now = timezone.now()
        Message.objects.filter(pk__in=message_ids, status=Status.PENDING).update(enqueued_at=now)
        for message_id in message_ids:
            send_message.delay(message_id)

    transaction.on_commit(enqueue)


def _build(
    *,
    organization: Organization,
    contact: Contact | None,
    phone: str,
    content: Content,
    text: str,
    reason: str,
    connection_id: int | None,
    due: datetime.datetime | None,
    dedupe_key: str,
    source: str,
    source_ref: str,
) -> Message:
    info = count_segments(text)
    return Message(
        organization=organization,
        contact=contact,
        connection_id=connection_id,
        template=content.template,
        to=phone,
        body=text,
        media_url=content.media_url,
        segments=info.segments,
        encoding=info.encoding,
        status=Status.SUPPRESSED if reason else Status.PENDING,
        suppressed_reason=reason,
        source=source,
        source_ref=source_ref,
        dedupe_key=dedupe_key,
        send_after=due,
    )


@transaction.atomic
def message_send(
    *,
    organization: Organization,
    contact: Contact | None = None,
    to: str | None = None,
    template: SmsTemplate | None = None,
    body: str | None = None,
    media_url: str = "",
    dedupe_key: str = "",
    respect_quiet_hours: bool = False,
    send_after: datetime.datetime | None = None,
    source: str,
    source_ref: str = "",
) -> Message:
    """Creates one outbound message under the rules; returns it, whatever its status."""
    if contact is None and not to:
        raise ApplicationError.for_field("to", "Give a contact or a number to text.")
    if contact is not None and contact.organization_id != organization.pk:
        raise ApplicationError.for_field("contact", "No such contact.")
    phone = (
        contact.phone
        if contact
        else phone_normalize(to or "", organization.default_country, field="to")
    )
    content = _content(organization=organization, template=template, body=body, media_url=media_url)
    text = _text(content, organization, contact)
    connection = rules.working_connection(organization)
    reason = rules.suppression(
        text=text,
        phone=phone,
        connection=connection,
        dedupe_key=dedupe_key,
        opted_out=rules.opted_out_numbers(organization, [phone]),
        invalid=rules.invalid_numbers(organization, [phone]),
        used_keys=rules.used_dedupe_keys(organization, [dedupe_key]),
        counts=rules.recent_counts(organization, [phone]) if organization.frequency_cap else {},
        cap=organization.frequency_cap,
    )
    now = timezone.now()
    due = (
        None
        if reason
        else _due(
            organization=organization,
            contact=contact,
            send_after=send_after,
            respect_quiet_hours=respect_quiet_hours,
            now=now,
        )
    )
    message = _build(
        organization=organization,
        contact=contact,
        phone=phone,
        content=content,
        text=text,
        reason=reason,
        connection_id=connection.pk if connection else None,
        due=due,
        dedupe_key=dedupe_key,
        source=source,
        source_ref=source_ref,
    )
    message.save()
    MessageEvent.objects.create(
        message=message,
        status=message.status,
        params={"reason": reason} if reason else ({"send_after": due.isoformat()} if due else {}),
    )
    if not reason and (due is None or due <= now):
        _enqueue_on_commit([message.pk])
    logger.info("message %s: %s %s", message.public_id, message.status, reason or "")
    return message


@transaction.atomic
def message_send_many(
    *,
    organization: Organization,
    contacts: Iterable[Contact],
    template: SmsTemplate | None = None,
    body: str | None = None,
    media_url: str = "",
    dedupe_key: str = "",
    respect_quiet_hours: bool = False,
    send_after: datetime.datetime | None = None,
    source: str,
    source_ref: str = "",
) -> int:
    """The same rules set-wise, in batches: a few queries per batch, bulk inserts.

    ``dedupe_key`` may contain ``{contact}``, replaced by each contact's id, for "once per
    contact". Returns how many messages were created (suppressed ones included).
    """
    content = _content(organization=organization, template=template, body=body, media_url=media_url)
    connection = rules.working_connection(organization)
    now = timezone.now()
    created = 0
    batch: list[Contact] = []

    def flush(contacts_batch: list[Contact]) -> None:
        nonlocal created
        phones = [c.phone for c in contacts_batch]
        keys = {
            c.pk: dedupe_key.replace("{contact}", str(c.public_id)) if dedupe_key else ""
            for c in contacts_batch
        }
        opted_out = rules.opted_out_numbers(organization, phones)
        invalid = rules.invalid_numbers(organization, phones)
        used = rules.used_dedupe_keys(organization, keys.values())
        counts = rules.recent_counts(organization, phones) if organization.frequency_cap else {}
        rows = []
        for contact in contacts_batch:
            text = _text(content, organization, contact)
            reason = rules.suppression(
                text=text,
                phone=contact.phone,
                connection=connection,
                dedupe_key=keys[contact.pk],
                opted_out=opted_out,
                invalid=invalid,
                used_keys=used,
                counts=counts,
                cap=organization.frequency_cap,
            )
            due = (
                None
                if reason
                else _due(
                    organization=organization,
                    contact=contact,
                    send_after=send_after,
                    respect_quiet_hours=respect_quiet_hours,
                    now=now,
                )
            )
            rows.append(
                _build(
                    organization=organization,
                    contact=contact,
                    phone=contact.phone,
                    content=content,
                    text=text,
                    reason=reason,
                    connection_id=connection.pk if connection else None,
                    due=due,
                    dedupe_key=keys[contact.pk],
                    source=source,
                    source_ref=source_ref,
                )
            )
        saved = Message.objects.bulk_create(rows)
        MessageEvent.objects.bulk_create(
            [
                MessageEvent(
                    message=m,
                    status=m.status,
                    params={"reason": m.suppressed_reason} if m.suppressed_reason else {},
                )
                for m in saved
            ]
        )
        _enqueue_on_commit(
            [
                m.pk
                for m in saved
                if m.status == Status.PENDING and (m.send_after is None or m.send_after <= now)
            ]
        )
        created += len(saved)

    for contact in contacts:
        if contact.organization_id != organization.pk:
            continue
        batch.append(contact)
        if len(batch) >= BATCH:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    return created
