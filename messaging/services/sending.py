"""The send service: the only way a message is created to go out (steps 1 and 2).

``message_send`` renders, applies the rules (``services.rules``) and writes the row in the
caller's transaction: ``suppressed`` with its reason, or ``pending`` with a due time; rows due
now are enqueued when the transaction commits. ``message_send_many`` does the same set-wise
for fan-outs. Nothing here talks to Twilio: the send task does (``services.submit``).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sized
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from connections.selectors import sending_connection
from contacts.models import Contact
from contacts.services.phones import phone_normalize
from messaging.models import Message, MessageEvent, Status
from messaging.services import rules
from messaging.services.bulk_insert import events_insert, messages_insert
from messaging.services.content import Texts, Timing, content_of, due_time, message_row
from messaging.services.dispatch import send_batches
from templates_sms.models import SmsTemplate
from tenants.errors import ApplicationError
from tenants.models import Organization
from tenants.sources import Source

logger = logging.getLogger(__name__)

BATCH = 1000


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
    content = content_of(
        organization=organization, template=template, body=body, media_url=media_url
    )
    connection = sending_connection(organization)
    timing = Timing(send_after, respect_quiet_hours, timezone.now())
    message = message_row(
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
    """What a fan-out created: every message's id and its suppression reason ("" for a
    pending one), in the order of the contacts given, and how many ended in each status (and,
    for suppressed ones, for each reason)."""

    message_ids: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    suppressed: Counter[str] = field(default_factory=Counter)

    @property
    def created(self) -> int:
        return len(self.message_ids)


class _Recipient(NamedTuple):
    """What a fan-out reads of a contact. A queryset is read as these columns, never as model
    instances: ``contact``, the row itself, only for a text with merge fields, and
    ``public_id`` only for a dedupe key that names the contact (else None)."""

    pk: int
    organization_id: int
    phone: str
    time_zone: str
    public_id: uuid.UUID | None
    contact: Contact | None


def _recipients(
    contacts: Iterable[Contact], *, personal: bool, public_id: bool
) -> Iterator[_Recipient]:
    if isinstance(contacts, QuerySet) and not personal:
        columns = ["pk", "organization_id", "phone", "time_zone"]
        if public_id:
            columns.append("public_id")
        for row in contacts.values_list(*columns).iterator(chunk_size=BATCH):
            pk, organization_id, phone, time_zone, *named = row
            yield _Recipient(
                pk, organization_id, phone, time_zone, named[0] if named else None, None
            )
        return
    if isinstance(contacts, QuerySet):
        contacts = contacts.iterator(chunk_size=BATCH)
    for c in contacts:
        yield _Recipient(c.pk, c.organization_id, c.phone, c.time_zone, c.public_id, c)


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
    dedupe_keys: Mapping[int, str] | None = None,
    commit_each_chunk: bool = False,
    send_total: int | None = None,
) -> SendManyResult:
    """The same rules set-wise, in chunks of ``BATCH`` contacts: a few queries and one insert
    of messages and one of events per chunk, the due messages of each enqueued when it
    commits, in send batches sized by the whole audience (counted once). A queryset of
    contacts is read chunk by chunk, never held whole, and only the columns needed.

    By default everything is written in one transaction (the caller's, if any), and a contact
    of another organization refuses the whole call. With ``commit_each_chunk`` (a launch's
    chunk of a large audience; not inside a transaction) each chunk commits on its own: a
    chunk that fails writes nothing and raises, the chunks before it stay.

    ``dedupe_key`` may contain ``{contact}``, replaced by each contact's id, for "once per
    contact"; ``dedupe_keys`` gives each contact its own key instead (by contact pk: an
    automation's ``run:<enrolment>:step:<step>``). ``send_total``: the size of the whole send
    these contacts are a part of, when the caller sends it part by part (a launch's chunks),
    so that its send batches are sized for the whole (``dispatch.batches``).
    """
    if commit_each_chunk and transaction.get_connection().in_atomic_block:
        raise RuntimeError("commit_each_chunk needs to run outside a transaction.")
    source = Source(source)  # one vocabulary: an unknown word is a bug
    content = content_of(
        organization=organization, template=template, body=body, media_url=media_url
    )
    connection = sending_connection(organization)
    timing = Timing(send_after, respect_quiet_hours, timezone.now())
    size = BATCH
    result = SendManyResult()
    texts = Texts(content, organization)
    total = send_total or (
        contacts.count()
        if isinstance(contacts, QuerySet)
        else len(contacts)
        if isinstance(contacts, Sized)
        else None
    )

    # Every row of the send shares these columns; the rest are each message's own.
    text, segments, encoding = ("", 0, "") if texts.personal else texts.of(None)
    prototype = Message(
        organization=organization,
        connection=connection,
        template=content.template,
        body=text,
        segments=segments,
        encoding=encoding,
        media_url=content.media_url,
        source=source,
        source_ref=source_ref,
    )
    varying = ["public_id", "contact_id", "to", "status", "suppressed_reason", "dedupe_key"]
    varying += ["send_after", "enqueued_at"]
    if texts.personal:
        varying += ["body", "segments", "encoding"]
    dues: dict[str, datetime.datetime | None] = {}  # by time zone
    firsts: dict[tuple[str, datetime.datetime | None], dict[str, str]] = {}  # events' params

    def due_in(zone: str) -> datetime.datetime | None:
        if zone not in dues:
            dues[zone] = due_time(
                organization=organization,
                time_zone=zone,
                send_after=timing.send_after,
                respect_quiet_hours=timing.respect_quiet_hours,
                now=timing.now,
            )
        return dues[zone]

    def first_event(reason: str, due: datetime.datetime | None) -> dict[str, str]:
        # What _event_for gives a message with this reason and due time.
        if (reason, due) not in firsts:
            firsts[reason, due] = (
                {"reason": reason} if reason else {"send_after": due.isoformat()} if due else {}
            )
        return firsts[reason, due]

    def flush(batch: list[_Recipient]) -> None:
        keys = [
            dedupe_keys.get(r.pk, "")
            if dedupe_keys is not None
            else dedupe_key.replace("{contact}", str(r.public_id))
            if dedupe_key
            else ""
            for r in batch
        ]
        facts = rules.facts_gather(
            organization, connection, phones=[r.phone for r in batch], keys=list(set(keys))
        )
        # Stamped with the rows, in the creating transaction: should the process die before
        # the enqueue, the sweeper finds the stamp two minutes old and enqueues them again.
        enqueued = timezone.now()
        rows: list[list[Any]] = []
        events: list[tuple[str, dict[str, str]]] = []
        go: list[bool] = []
        for recipient, key in zip(batch, keys, strict=True):
            text, segments, encoding = texts.of(recipient.contact)
            reason = rules.suppression(
                rules.Moment.CREATE, rules.Candidate(text, recipient.phone, key), facts
            )
            due = None if reason else due_in(recipient.time_zone)
            now_due = not reason and (due is None or due <= timing.now)
            status = Status.SUPPRESSED.value if reason else Status.PENDING.value
            row = [uuid.uuid4(), recipient.pk, recipient.phone, status, reason, key, due]
            row.append(enqueued if now_due else None)
            if texts.personal:
                row += [text, segments, encoding]
            rows.append(row)
            events.append((status, first_event(reason, due)))
            go.append(now_due)
        texts.forget()
        ids = messages_insert(prototype, varying, rows)
        events_insert([(pk, *event) for pk, event in zip(ids, events, strict=True)])
        due_now = [pk for pk, now_due in zip(ids, go, strict=True) if now_due]
        if due_now:
            send_on_commit(due_now, total=total)
        result.message_ids += ids
        result.reasons += [row[4] for row in rows]
        result.statuses.update(status for status, _ in events)
        result.suppressed.update(row[4] for row in rows if row[4])

    def chunks() -> Iterator[list[_Recipient]]:
        batch: list[_Recipient] = []
        named = "{contact}" in dedupe_key
        for recipient in _recipients(contacts, personal=texts.personal, public_id=named):
            if recipient.organization_id != organization.pk:
                public_id = recipient.public_id or (
                    Contact.objects.values_list("public_id", flat=True).get(pk=recipient.pk)
                )
                raise ApplicationError.for_field("contacts", f"No such contact: {public_id}.")
            batch.append(recipient)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    with nullcontext() if commit_each_chunk else transaction.atomic():
        for batch in chunks():
            with transaction.atomic() if commit_each_chunk else nullcontext():
                flush(batch)
    return result
