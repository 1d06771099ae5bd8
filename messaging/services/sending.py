"""The send service: the only way a message is created to go out (steps 1 and 2).

``message_send`` renders, applies the rules (``services.rules``) and writes the row in the
caller's transaction: ``suppressed`` with its reason, or ``pending`` with a due time; rows due
now are enqueued when the transaction commits. ``message_send_many`` does the same set-wise
for fan-outs. Nothing here talks to Twilio: the send task does (``services.submit``).
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from connections.selectors import sending_connection
from contacts.models import Contact
from contacts.services.phones import phone_normalize
from messaging.models import Message, MessageEvent, Status
from messaging.services import rules
from messaging.services.submit import send_batches
from templates_sms.media import media_url_check
from templates_sms.models import SmsTemplate
from templates_sms.preview import contact_values, message_text
from templates_sms.segments import count_segments
from tenants.errors import ApplicationError
from tenants.models import Organization
from tenants.sources import Source

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
    media = (media_url or (template.media_url if template else "")).strip()
    if media:
        # Twilio fetches the media: never from inside a network (checked again here, on every
        # path, because a host's address can change after a template was saved).
        media_url_check(media)
    return Content(template, (body or "").strip(), media)


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
    """Stamps ``enqueued_at`` with the rows, then enqueues after the commit: should the process
    die in between, the sweeper finds the stamp two minutes old and enqueues them again."""
    if not message_ids:
        return
    Message.objects.filter(pk__in=message_ids, status=Status.PENDING).update(
        enqueued_at=timezone.now()
    )
    send_on_commit(message_ids)


def send_on_commit(message_ids: list[int], *, total: int | None = None) -> None:
    """Enqueues the messages' send batches once the transaction commits (the caller has
    stamped ``enqueued_at``); ``total``: see ``send_batches``."""
    transaction.on_commit(lambda: send_batches(message_ids, total=total))


@dataclass(frozen=True)
class Timing:
    send_after: datetime.datetime | None
    respect_quiet_hours: bool
    now: datetime.datetime


def _row(
    *,
    organization: Organization,
    contact: Contact | None,
    phone: str,
    content: Content,
    facts: rules.Facts,
    timing: Timing,
    dedupe_key: str,
    source: Source,
    source_ref: str,
) -> Message:
    """One message, suppressed with the first rule that stops it or pending with a due time."""
    text = _text(content, organization, contact)
    reason = rules.suppression(rules.Moment.CREATE, rules.Candidate(text, phone, dedupe_key), facts)
    due = None
    if not reason:
        due = _due(
            organization=organization,
            contact=contact,
            send_after=timing.send_after,
            respect_quiet_hours=timing.respect_quiet_hours,
            now=timing.now,
        )
    info = count_segments(text)
    return Message(
        organization=organization,
        contact=contact,
        connection=facts.connection,
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


def _event_for(message: Message) -> MessageEvent:
    if message.suppressed_reason:
        params = {"reason": message.suppressed_reason}
    elif message.send_after:
        params = {"send_after": message.send_after.isoformat()}
    else:
        params = {}
    return MessageEvent(message=message, status=message.status, params=params)


def _due_now(messages: Iterable[Message], now: datetime.datetime) -> list[int]:
    return [
        m.pk
        for m in messages
        if m.status == Status.PENDING and (m.send_after is None or m.send_after <= now)
    ]


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
    source = Source(source)
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
    connection = sending_connection(organization)
    timing = Timing(send_after, respect_quiet_hours, timezone.now())
    message = _row(
        organization=organization,
        contact=contact,
        phone=phone,
        content=content,
        facts=rules.facts_gather(organization, connection, phones=[phone], keys=[dedupe_key]),
        timing=timing,
        dedupe_key=dedupe_key,
        source=source,
        source_ref=source_ref,
    )
    message.save()
    _event_for(message).save()
    _enqueue_on_commit(_due_now([message], timing.now))
    logger.info("message %s: %s %s", message.public_id, message.status, message.suppressed_reason)
    return message


@dataclass
class SendManyResult:
    """What a fan-out created: every message's id, in the order of the contacts given, and
    how many ended in each status (and, for suppressed ones, for each reason)."""

    message_ids: list[int] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    suppressed: Counter[str] = field(default_factory=Counter)

    @property
    def created(self) -> int:
        return len(self.message_ids)

    def add(self, messages: Iterable[Message]) -> None:
        for message in messages:
            self.message_ids.append(message.pk)
            self.statuses[str(message.status)] += 1
            if message.suppressed_reason:
                self.suppressed[str(message.suppressed_reason)] += 1


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
    commit_each_chunk: bool = False,
) -> SendManyResult:
    """The same rules set-wise, in chunks of ``BATCH`` contacts: a few queries and bulk
    inserts per chunk, the due messages of each enqueued when it commits. A queryset of
    contacts is read chunk by chunk, never held whole.

    By default everything is written in one transaction (the caller's, if any), and a contact
    of another organization refuses the whole call. With ``commit_each_chunk`` (a launch's
    chunk of a large audience; not inside a transaction) each chunk commits on its own: a
    chunk that fails writes nothing and raises, the chunks before it stay.

    ``dedupe_key`` may contain ``{contact}``, replaced by each contact's id, for "once per
    contact".
    """
    if commit_each_chunk and transaction.get_connection().in_atomic_block:
        raise RuntimeError("commit_each_chunk needs to run outside a transaction.")
    source = Source(source)  # one vocabulary: an unknown word is a bug
    content = _content(organization=organization, template=template, body=body, media_url=media_url)
    connection = sending_connection(organization)
    timing = Timing(send_after, respect_quiet_hours, timezone.now())
    result = SendManyResult()

    def flush(batch: list[Contact]) -> None:
        keys = {
            c.pk: dedupe_key.replace("{contact}", str(c.public_id)) if dedupe_key else ""
            for c in batch
        }
        facts = rules.facts_gather(
            organization, connection, phones=[c.phone for c in batch], keys=list(keys.values())
        )
        rows = [
            _row(
                organization=organization,
                contact=contact,
                phone=contact.phone,
                content=content,
                facts=facts,
                timing=timing,
                dedupe_key=keys[contact.pk],
                source=source,
                source_ref=source_ref,
            )
            for contact in batch
        ]
        saved = Message.objects.bulk_create(rows)
        MessageEvent.objects.bulk_create([_event_for(m) for m in saved])
        _enqueue_on_commit(_due_now(saved, timing.now))
        result.add(saved)

    def chunks() -> Iterator[list[Contact]]:
        rows = contacts.iterator(chunk_size=BATCH) if isinstance(contacts, QuerySet) else contacts
        batch: list[Contact] = []
        for contact in rows:
            if contact.organization_id != organization.pk:
                raise ApplicationError.for_field(
                    "contacts", f"No such contact: {contact.public_id}."
                )
            batch.append(contact)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    with nullcontext() if commit_each_chunk else transaction.atomic():
        for batch in chunks():
            with transaction.atomic() if commit_each_chunk else nullcontext():
                flush(batch)
    return result
