"""Handing messages to Twilio (step 3): what a send task does with its batch of ids.

A batch is worked a window of ``WINDOW`` messages at a time, set-wise, so that a window costs
the same few statements whatever its size:

1. one query loads the window's ``pending`` rows; each organization's connection, and a client
   with its token decrypted, are loaded once per batch (never kept beyond it);
2. rate-limit slots for each sender's messages in one round trip (none left for the rest: they
   wait as one batch, and no thread sleeps);
3. one transaction claims the rows (``FOR UPDATE SKIP LOCKED``, then ``pending`` →
   ``submitting``: a row another worker holds is not ours) and checks again, set-wise, the
   rules that may have changed since the message was created (``rules.RULES`` at
   ``Moment.SEND``: an opt-out that just arrived, a disconnected account, a dedupe key or the
   frequency cap's last slot used meanwhile);
4. one call per message through the seam, in order (a worker's threads run batches side by
   side); a failed call is recorded at once (``services.failed_calls``: retry, unknown outcome
   or failure);
5. one transaction records the window's accepted messages (SIDs, statuses, events:
   ``services.recording``).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from connections.models import Connection
from connections.selectors import sending_connection
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import TwilioError
from connections.twilio_records import CreatedMessage
from messaging import ratelimit
from messaging.models import DedupeKey, Message, MessageEvent, Status, SuppressedReason
from messaging.services import rules
from messaging.services.failed_calls import MAX_ATTEMPTS, failed_call_record
from messaging.services.recording import (
    answers_record,
    event_record,
    messages_announce,
    release_dedupe_key,
    status_announce,
)
from tenants.models import Organization

# The send task's two entry points, and names that moved to ``failed_calls`` and ``recording``
# but are still imported from here (by the sweeper and tests).
__all__ = [
    "MAX_ATTEMPTS",
    "event_record",
    "message_submit",
    "messages_submit",
    "release_dedupe_key",
    "status_announce",
    "status_callback_url",
]


SHORT_WAIT = 60  # seconds: shorter waits re-enqueue with a countdown, longer ones go to beat
TAKEN = "taken"  # the claim found the row no longer pending: another worker has it
# A claimed message whose call has not started this long after the claim (Twilio answering
# slowly) goes back in line; the sweeper takes five minutes of ``submitting`` for a dead worker.
CLAIM_HOLD = datetime.timedelta(seconds=60)
# A send task works through its batch (``services.dispatch``) a window of ``WINDOW`` at a
# time: one claim, one set of rule queries and one write of the results per window, whatever
# its size.
WINDOW = 50


def status_callback_url(message: Message) -> str:
    path = reverse("twilio_status_callback", args=[str(message.public_id)])
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _defer(messages: list[Message], wait: float) -> None:
    """Not now (rate limit): due again in ``wait`` seconds."""
    due = timezone.now() + datetime.timedelta(seconds=wait)
    Message.objects.filter(pk__in=[m.pk for m in messages], status=Status.PENDING).update(
        send_after=due, enqueued_at=due if wait < SHORT_WAIT else None
    )


@dataclass
class Sender:
    """What the messages of one organization share within a batch: the connection, and a
    client with the token decrypted once for the batch (never kept beyond it)."""

    connection: Connection | None
    # Messages whose slots a run before this one reserved: they go without asking again.
    prepaid: frozenset[int] = frozenset()
    _gateway: TwilioGateway | None = None
    # Set once the rate limit refused a message: the rest of the batch waits as long.
    refused: bool = False
    wait: float = 0.0
    deferred: list[int] = field(default_factory=list)
    reserved: list[int] = field(default_factory=list)  # of ``deferred``: their slots held

    @classmethod
    def load(cls, organization: Organization, prepaid: frozenset[int] = frozenset()) -> Sender:
        return cls(sending_connection(organization), prepaid)

    @property
    def gateway(self) -> TwilioGateway:
        if self._gateway is None:
            assert self.connection is not None  # noqa: S101 - only asked for with one
            credentials = self.connection.twilio
            self._gateway = TwilioGateway(credentials.account_sid, credentials.auth_token())
        return self._gateway

    def slots(self, messages: list[Message]) -> tuple[list[Message], list[Message]]:
        """Splits the messages into those the sender's rate allows now (or a run before
        reserved) and those that wait. The limiter is asked once; after a refusal, not again
        within the batch, and the refused messages' next burst of slots is reserved: the batch
        comes back when they are due and sends them without asking. Woken instead whenever a
        slot might be free, 60 batches held at 10 a second took turns at each slot and cost
        the send worker 72 ms of CPU a message."""
        if self.connection is None:
            return messages, []  # nothing goes out: the claim suppresses them
        paid = [m for m in messages if m.pk in self.prepaid]
        asking = [m for m in messages if m.pk not in self.prepaid]
        if self.refused or not asking:
            return paid, asking
        key, rate = f"sender:{self.connection.pk}", float(self.connection.twilio.send_rate)
        costs = [max(m.segments, 1) for m in asking]
        taken, wait = ratelimit.take_many(key, rate=rate, costs=costs)
        if taken < len(asking):
            self.refused, self.wait = True, wait
            count, until = ratelimit.reserve_many(
                key, rate=rate, costs=costs[taken:], horizon=SHORT_WAIT
            )
            if count:  # a wait past the horizon is the beat's, which asks again then
                self.wait = until
                self.reserved += [m.pk for m in asking[taken : taken + count]]
        return paid + asking[:taken], asking[taken:]


@dataclass
class Window:
    """One window's messages on their way, and what happened to each."""

    outcomes: dict[int, str] = field(default_factory=dict)
    to_call: list[tuple[Message, Sender]] = field(default_factory=list)
    accepted: list[tuple[Message, CreatedMessage]] = field(default_factory=list)
    released: list[Message] = field(default_factory=list)


def _pending(message_ids: list[int]) -> list[Message]:
    return list(
        Message.objects.select_related("organization")
        .filter(pk__in=message_ids, status=Status.PENDING)
        .order_by("pk")
    )


def message_submit(message_id: int) -> str:
    """Runs step 3 for one message. Returns what happened, for logs and tests."""
    outcomes = messages_submit([message_id])
    return next(iter(outcomes.values()), "not pending")


def messages_submit(message_ids: list[int], reserved: Collection[int] = ()) -> dict[int, str]:
    """Runs step 3 for a batch, a window at a time (``reserved``: messages of it whose slots
    the run that deferred them reserved). Returns each message's outcome."""
    from messaging.tasks import send_messages  # tasks import services, not the reverse

    outcomes: dict[int, str] = {}
    senders: dict[int, Sender] = {}
    released: list[int] = []
    prepaid = frozenset(reserved)
    for start in range(0, len(message_ids), WINDOW):
        window = _window(message_ids[start : start + WINDOW], senders, prepaid)
        outcomes.update(window.outcomes)
        released += [m.pk for m in window.released]
    for sender in senders.values():
        if sender.deferred and sender.wait < SHORT_WAIT:
            held = {"reserved": sender.reserved} if sender.reserved else None
            send_messages.apply_async((sender.deferred,), kwargs=held, countdown=sender.wait)
    if released:
        send_messages.delay(released)
    return outcomes


def _window(message_ids: list[int], senders: dict[int, Sender], prepaid: frozenset[int]) -> Window:
    now = timezone.now()
    window = Window()
    by_sender: dict[int, list[Message]] = {}
    for message in _pending(message_ids):
        if message.send_after and message.send_after > now + datetime.timedelta(seconds=1):
            window.outcomes[message.pk] = "not due"
            continue
        if message.organization_id not in senders:
            senders[message.organization_id] = Sender.load(message.organization, prepaid)
        by_sender.setdefault(message.organization_id, []).append(message)
    ready: list[tuple[Sender, list[Message]]] = []
    for organization_id, messages in by_sender.items():
        sender = senders[organization_id]
        allowed, waiting = sender.slots(messages)
        if waiting:
            _defer(waiting, sender.wait)
            sender.deferred += [m.pk for m in waiting]
            window.outcomes.update((m.pk, "deferred") for m in waiting)
        if allowed:
            ready.append((sender, allowed))
    if ready:
        _claim(window, ready, now)
    calls = iter(window.to_call)
    try:
        for message, sender in calls:
            if timezone.now() - now > CLAIM_HOLD:
                window.released.append(message)  # slow calls: the rest goes back in line
                continue
            assert sender.connection is not None  # noqa: S101 - claimed with a connection
            outcome = _call_twilio(message, sender.connection, sender.gateway)
            if isinstance(outcome, CreatedMessage):
                window.accepted.append((message, outcome))
                outcome = "submitted"
            window.outcomes[message.pk] = outcome
    except Exception:
        window.released += [m for m, _ in calls]  # never called: back in line
        raise
    finally:
        # A worker that dies here (kill -9) records nothing: the sweeper finds the rows
        # ``submitting`` and looks them up on Twilio before anything is sent again.
        answers_record(window.accepted)
        _release(window)
    return window


@transaction.atomic
def _claim(
    window: Window, ready: list[tuple[Sender, list[Message]]], now: datetime.datetime
) -> None:
    """Claims the messages and checks the rules again, as one transaction.

    With a frequency cap, claims of messages to one number wait for each other
    (``rules.number_locks``), so a count of what was handed to Twilio and the claim that adds
    to it are one step: two workers cannot both take the last slot."""
    for _, messages in ready:
        organization = messages[0].organization
        if organization.frequency_cap:
            rules.number_locks(organization, [m.to for m in messages])
    wanted = [m.pk for _, messages in ready for m in messages]
    mine = set(
        Message.objects.select_for_update(skip_locked=True)
        .filter(pk__in=wanted, status=Status.PENDING)
        .values_list("pk", flat=True)
    )
    for sender, messages in ready:
        claimed = [m for m in messages if m.pk in mine]
        window.outcomes.update((m.pk, TAKEN) for m in messages if m.pk not in mine)
        if claimed:
            _claim_sender(window, sender, claimed, now)


def _claim_sender(
    window: Window, sender: Sender, messages: list[Message], now: datetime.datetime
) -> None:
    connection = sender.connection
    # The sender is recorded with the claim, so that a worker dying mid-call leaves the sweeper
    # the exact sender to look for on Twilio, whatever the connection says by then.
    fields = (
        {
            "from_number": connection.twilio.phone_number,
            "messaging_service_sid": connection.twilio.messaging_service_sid,
        }
        if connection is not None
        else {}
    )
    ids = [m.pk for m in messages]
    # A new attempt clears the last one's error (its event keeps it): the sweeper takes a
    # ``submitting`` row with an error for an unknown outcome, and this call is in flight.
    Message.objects.filter(pk__in=ids, status=Status.PENDING).update(
        status=Status.SUBMITTING,
        submitted_at=now,
        attempts=F("attempts") + 1,
        connection=connection,
        error_code=None,
        error_message="",
        updated_at=now,
        **fields,
    )
    for message in messages:  # what the claim wrote, without reading the rows back
        message.status, message.submitted_at, message.updated_at = Status.SUBMITTING, now, now
        message.error_code, message.error_message = None, ""
        message.attempts += 1
        message.connection = connection
        for name, value in fields.items():
            setattr(message, name, value)
    organization = messages[0].organization
    facts = rules.facts_gather(
        organization,
        connection,
        phones=[m.to for m in messages],
        keys=[m.dedupe_key for m in messages],
        excluding=ids,
    )
    reasons = {
        m.pk: rules.suppression(
            rules.Moment.SEND, rules.Candidate(m.body, m.to, m.dedupe_key), facts
        )
        for m in messages
    }
    may_go = [m for m in messages if not reasons[m.pk]]
    for pk in rules.dedupe_keys_use(may_go):
        reasons[pk] = SuppressedReason.DUPLICATE
    # Earlier messages of the window to the same number take the cap's slots in order.
    counts = facts.counts
    for message in messages:
        if reasons[message.pk] or facts.cap is None:
            continue
        if counts.get(message.to, 0) >= facts.cap:
            reasons[message.pk] = SuppressedReason.FREQUENCY_CAP
        else:
            counts[message.to] = counts.get(message.to, 0) + 1
    _suppress([(m, reasons[m.pk]) for m in messages if reasons[m.pk]])
    for message in messages:
        if reasons[message.pk]:  # no connection is one of the reasons
            window.outcomes[message.pk] = "suppressed"
        else:
            window.to_call.append((message, sender))


def _suppress(suppressed: list[tuple[Message, str]]) -> None:
    if not suppressed:
        return
    by_reason: dict[str, list[int]] = {}
    for message, reason in suppressed:
        by_reason.setdefault(reason, []).append(message.pk)
    now = timezone.now()
    for reason, ids in by_reason.items():
        Message.objects.filter(pk__in=ids, status=Status.SUBMITTING).update(
            status=Status.SUPPRESSED, suppressed_reason=reason, updated_at=now
        )
    MessageEvent.objects.bulk_create(
        [
            MessageEvent(message=m, status=Status.SUPPRESSED, params={"reason": reason})
            for m, reason in suppressed
        ]
    )
    messages_announce([m for m, _ in suppressed], Status.SUPPRESSED)


def _call_twilio(
    message: Message, connection: Connection, gateway: TwilioGateway
) -> CreatedMessage | str:
    """What Twilio answered, or the outcome of a failed call (recorded at once)."""
    credentials = connection.twilio
    try:
        return gateway.create_message(
            to=message.to,
            body=message.body,
            media_url=message.media_url,
            status_callback=status_callback_url(message),
            from_=credentials.phone_number,
            messaging_service_sid=credentials.messaging_service_sid,
        )
    except TwilioError as error:
        return failed_call_record(message, connection, error)


def _release(window: Window) -> None:
    """Claimed messages whose call had not started after ``CLAIM_HOLD`` go back to
    ``pending`` (their dedupe keys too), so that a row is never ``submitting`` for long
    without a call in flight: that is how the sweeper tells a dead worker."""
    if not window.released:
        return
    ids = [m.pk for m in window.released]
    now = timezone.now()
    Message.objects.filter(pk__in=ids, status=Status.SUBMITTING).update(
        status=Status.PENDING, attempts=F("attempts") - 1, send_after=now, enqueued_at=now
    )
    DedupeKey.objects.filter(message_id__in=ids).delete()
    window.outcomes.update((pk, "released") for pk in ids)
