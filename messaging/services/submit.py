"""Handing a message to Twilio (step 3): what the send task does, once per message.

Order matters: a rate-limit slot first (none free: come back later, no thread sleeps), then,
in one transaction, a conditional claim (``pending`` → ``submitting``; zero rows: someone else
has it) and the rules that may have changed since the message was created (``rules.RULES``
checked at ``Moment.SEND``: an opt-out that just arrived, a disconnected account, a dedupe key
or the frequency cap's last slot used meanwhile), then one call through the seam.
"""

from __future__ import annotations

import datetime
import logging
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from connections.models import Connection
from connections.selectors import sending_connection
from connections.services.connections import connection_note_twilio_error
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import ErrorKind, TwilioError
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from messaging import ratelimit
from messaging.models import RANK, DedupeKey, Message, MessageEvent, Status, SuppressedReason
from messaging.services import rules
from messaging.signals import status_changed_after_commit
from tenants.models import Organization
from tenants.sources import Source

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE = datetime.timedelta(seconds=30)
LONG_BACKOFF_BASE = datetime.timedelta(minutes=5)
BACKOFF_CAP = datetime.timedelta(hours=1)
SHORT_WAIT = 60  # seconds: shorter waits re-enqueue with a countdown, longer ones go to beat
TAKEN = "taken"  # the claim found the row no longer pending: another worker has it
# A send task takes a batch of ids: at most ``MAX_BATCH`` (a fan-out chunk; one broker message
# each), and the batches of a send spread over the send worker's threads (docker-compose: 16).
# The task works through its batch a window of ``WINDOW`` at a time: one claim, one set of rule
# queries and one write of the results per window, whatever its size.
MAX_BATCH = 1000
WINDOW = 50
SEND_THREADS = 16


def status_callback_url(message: Message) -> str:
    path = reverse("twilio_status_callback", args=[str(message.public_id)])
    return f"{settings.PUBLIC_BASE_URL}{path}"


def backoff(attempt: int, *, long: bool) -> datetime.timedelta:
    """Exponential, capped, with ±20% jitter so retries of a burst do not arrive together."""
    base = LONG_BACKOFF_BASE if long else BACKOFF_BASE
    delay: datetime.timedelta = min(base * (2 ** max(attempt - 1, 0)), BACKOFF_CAP)
    jitter = random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
    return delay * jitter


def event_record(
    message: Message, status: str, *, error_code: int | None = None, **params: object
) -> None:
    """One of our own events on the message (Twilio's callbacks are recorded apart)."""
    MessageEvent.objects.create(
        message=message, status=status, error_code=error_code, params=params
    )


def _finish(message: Message, **fields: object) -> int:
    """Updates the row only while it is still ours (``submitting``)."""
    fields["updated_at"] = timezone.now()
    return Message.objects.filter(pk=message.pk, status=Status.SUBMITTING).update(**fields)


def status_announce(
    message: Message, status: str, *, error_code: int | None = None, source: Source = Source.SYSTEM
) -> None:
    """``message_status_changed`` for one message, once its transaction commits."""
    status_changed_after_commit(
        organization_id=message.organization_id,
        messages=[(message.pk, message.contact_id)],
        status=status,
        error_code=error_code,
        source=source,
    )


def _suppress(message: Message, reason: str) -> None:
    if _finish(message, status=Status.SUPPRESSED, suppressed_reason=reason):
        event_record(message, Status.SUPPRESSED, reason=reason)
        status_announce(message, Status.SUPPRESSED)


def message_defer(message: Message, wait: float) -> datetime.datetime:
    """Not now (rate limit): due again in ``wait`` seconds."""
    due = timezone.now() + datetime.timedelta(seconds=wait)
    Message.objects.filter(pk=message.pk, status=Status.PENDING).update(
        send_after=due, enqueued_at=due if wait < SHORT_WAIT else None
    )
    return due


@dataclass
class Sender:
    """What the messages of one organization share within a batch: the connection, and a
    client with the token decrypted once for the batch (never kept beyond it)."""

    connection: Connection | None
    _gateway: TwilioGateway | None = None
    # Set once the rate limit refused a message: the rest of the batch waits as long.
    wait: float = 0.0
    deferred: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, organization: Organization) -> Sender:
        return cls(sending_connection(organization))

    @property
    def gateway(self) -> TwilioGateway:
        if self._gateway is None:
            assert self.connection is not None  # noqa: S101 - only asked for with one
            credentials = self.connection.twilio
            self._gateway = TwilioGateway(credentials.account_sid, credentials.auth_token())
        return self._gateway


def _pending(message_ids: list[int]) -> list[Message]:
    return list(
        Message.objects.select_related("organization", "contact")
        .filter(pk__in=message_ids, status=Status.PENDING)
        .order_by("pk")
    )


def message_submit(message_id: int) -> str:
    """Runs step 3 for one message. Returns what happened, for logs and tests."""
    outcomes = messages_submit([message_id])
    return next(iter(outcomes.values()), "not pending")


def messages_submit(message_ids: list[int]) -> dict[int, str]:
    """Runs step 3 for a batch, in order: one query loads the batch, each organization's
    connection and credentials are loaded once. Returns each message's outcome."""
    outcomes: dict[int, str] = {}
    senders: dict[int, Sender] = {}
    for message in _pending(message_ids):
        sender = senders.get(message.organization_id)
        if sender is None:
            sender = senders[message.organization_id] = Sender.load(message.organization)
        outcomes[message.pk] = _submit(message, sender)
    for sender in senders.values():
        if sender.deferred and sender.wait < SHORT_WAIT:
            from messaging.tasks import send_messages  # tasks import services, not the reverse

            send_messages.apply_async((sender.deferred,), countdown=sender.wait)
    return outcomes


def _submit(message: Message, sender: Sender) -> str:
    now = timezone.now()
    if message.send_after and message.send_after > now + datetime.timedelta(seconds=1):
        return "not due"
    connection = sender.connection
    if connection is not None:
        wait = sender.wait or ratelimit.take(
            f"sender:{connection.pk}",
            rate=float(connection.twilio.send_rate),
            cost=message.segments,
        )
        if wait > 0:
            # The limiter said "not yet": the rest of this batch for the sender waits too,
            # without asking again, and comes back as one batch.
            sender.wait = wait
            sender.deferred.append(message.pk)
            message_defer(message, wait)
            return "deferred"

    reason = _claim(message, connection, now)
    if reason == TAKEN:
        return "taken"
    if reason or connection is None:  # no connection is one of the reasons
        return "suppressed"
    return _call_twilio(message, connection, sender.gateway)


@transaction.atomic
def _claim(message: Message, connection: Connection | None, now: datetime.datetime) -> str:
    """Claims the row and checks the rules again, as one transaction: "" when it may go,
    ``TAKEN`` when another worker has it, else the reason it was suppressed for.

    With a frequency cap, claims of messages to one number wait for each other
    (``rules.number_lock``), so a count of what was handed to Twilio and the claim that adds
    to it are one step: two workers cannot both take the last slot."""
    organization = message.organization
    if organization.frequency_cap:
        rules.number_lock(organization, message.to)
    # The sender is recorded with the claim, so that a worker dying mid-call leaves the sweeper
    # the exact sender to look for on Twilio, whatever the connection says by then.
    sender = (
        {
            "from_number": connection.twilio.phone_number,
            "messaging_service_sid": connection.twilio.messaging_service_sid,
        }
        if connection is not None
        else {}
    )
    claimed = Message.objects.filter(pk=message.pk, status=Status.PENDING).update(
        status=Status.SUBMITTING,
        submitted_at=now,
        attempts=F("attempts") + 1,
        connection=connection,
        updated_at=now,
        **sender,
    )
    if claimed != 1:
        return TAKEN
    # What the claim wrote, without reading the row back (the batch loaded it a moment ago).
    message.status, message.submitted_at, message.updated_at = Status.SUBMITTING, now, now
    message.attempts += 1
    message.connection = connection
    for name, value in sender.items():
        setattr(message, name, value)
    facts = rules.facts_gather(
        organization,
        connection,
        phones=[message.to],
        keys=[message.dedupe_key],
        excluding=message.pk,
    )
    candidate = rules.Candidate(message.body, message.to, message.dedupe_key)
    reason = rules.suppression(rules.Moment.SEND, candidate, facts)
    if not reason and message.dedupe_key and not rules.dedupe_key_use(message):
        reason = SuppressedReason.DUPLICATE
    if reason:
        _suppress(message, reason)
    return reason


def _call_twilio(message: Message, connection: Connection, gateway: TwilioGateway) -> str:
    credentials = connection.twilio
    sender = {
        "from_": credentials.phone_number,
        "messaging_service_sid": credentials.messaging_service_sid,
    }
    try:
        created = gateway.create_message(
            to=message.to,
            body=message.body,
            media_url=message.media_url,
            status_callback=status_callback_url(message),
            **sender,
        )
    except TwilioError as error:
        return _failed_call(message, connection, error)
    status = created.status if created.status in RANK else Status.QUEUED
    # A status callback may have arrived before this answer: never move the status back.
    Message.objects.filter(pk=message.pk).update(
        sid=created.sid,
        from_number=credentials.phone_number,
        messaging_service_sid=credentials.messaging_service_sid,
        error_code=None,
        error_message="",
        updated_at=timezone.now(),
    )
    moved = Message.objects.filter(pk=message.pk, status=Status.SUBMITTING).update(status=status)
    event_record(message, status, sid=created.sid)
    if moved:
        status_announce(message, status)
    return "submitted"


def release_dedupe_key(message: Message) -> None:
    if message.dedupe_key:
        DedupeKey.objects.filter(organization=message.organization, message=message).delete()


def _failed_call(message: Message, connection: Connection, error: TwilioError) -> str:
    code = error.code
    if error.kind is ErrorKind.UNKNOWN:
        # Twilio may have created it: the sweeper looks before anything is sent again.
        _finish(message, error_code=code, error_message=error.message)
        event_record(message, "unknown_outcome", error_code=code, detail=error.message)
        return "unknown"
    release_dedupe_key(message)
    if error.kind is ErrorKind.RETRY and message.attempts < MAX_ATTEMPTS:
        due = timezone.now() + backoff(message.attempts, long=error.long_backoff)
        _finish(
            message,
            status=Status.PENDING,
            send_after=due,
            enqueued_at=None,
            error_code=code,
            error_message=error.message,
        )
        event_record(
            message, "retry", error_code=code, detail=error.message, send_after=due.isoformat()
        )
        return "retry"
    if _finish(message, status=Status.FAILED, error_code=code, error_message=error.message):
        status_announce(message, Status.FAILED, error_code=code)
    event_record(message, Status.FAILED, error_code=code, detail=error.message)
    if code == 21610:
        consent_opt_out(
            organization=message.organization,
            phone=message.to,
            source=ConsentSource.TWILIO_ERROR_21610,
            actor="Twilio (error 21610)",
        )
    connection_note_twilio_error(connection=connection, error=error)
    return "failed"


def messages_enqueue_due(limit: int = 1000) -> int:
    """Enqueues pending messages whose time has come (delays, quiet hours, backoff), in
    batches of one organization each."""
    now = timezone.now()
    due = list(
        Message.objects.filter(status=Status.PENDING, send_after__lte=now)
        .filter(enqueued_at__isnull=True)
        .order_by("send_after")
        .values_list("pk", "organization_id")[:limit]
    )
    if not due:
        return 0
    ids = [pk for pk, _ in due]
    Message.objects.filter(pk__in=ids, status=Status.PENDING, enqueued_at__isnull=True).update(
        enqueued_at=now
    )
    by_organization: dict[int, list[int]] = {}
    for pk, organization_id in due:
        by_organization.setdefault(organization_id, []).append(pk)
    for message_ids in by_organization.values():
        send_batches(message_ids)
    return len(due)


def send_batches(message_ids: list[int], *, total: int | None = None) -> None:
    """Enqueues send tasks for these messages, in batches: never a broker message per SMS,
    and enough batches to keep a send worker's threads busy. ``total``: the size of the whole
    send these ids are a chunk of (a fan-out enqueues chunk by chunk)."""
    from messaging.tasks import send_messages

    for batch in batches(message_ids, total=total):
        send_messages.delay(batch)


def batches(message_ids: list[int], *, total: int | None = None) -> list[list[int]]:
    """Batches of at most ``MAX_BATCH``, and small enough that a send of ``total`` messages
    (by default these) gives each of a worker's ``SEND_THREADS`` threads one: 20 messages are
    10 batches of 2, 2,000 are 16 of 125, and a 100,000-message fan-out is one per chunk."""
    size = max(1, min(MAX_BATCH, -(-max(total or 0, len(message_ids)) // SEND_THREADS)))
    return [message_ids[i : i + size] for i in range(0, len(message_ids), size)]
