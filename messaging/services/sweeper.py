"""Step 6: the sweeper, so that no message is lost (beat runs it every minute).

- A **lost task** (a broker dropped it, or the worker never picked it up): a ``pending`` row
  enqueued over two minutes ago whose ``send_after`` has passed is enqueued again.
- A **dead worker** (``submitting`` for over five minutes) or an **unknown outcome** (Twilio
  timed out or answered 5xx): Twilio may have created the message, so the sweeper lists the
  account's messages to that number and adopts a single match on to, body, sender and time
  instead of sending again; with no match it sends again; with several it sets
  ``needs_attention`` for a person to decide.
- A message still ``queued`` or ``sent`` (or ``accepted``/``sending``) a day after it was
  handed over, its final callback never received: its status is fetched from Twilio.

Every action is an event on the message. Each pass handles at most ``BATCH`` rows per case; a
Twilio error leaves the row for the next pass.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from connections.models import TwilioCredentials
from connections.selectors import twilio_credentials
from connections.services.connections import connection_note_twilio_error
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import TwilioError
from connections.twilio_records import MessageRecord
from messaging.models import RANK, Message, Status
from messaging.services.callback_sql import StatusMove, status_move
from messaging.services.sending import send_on_commit
from messaging.services.submit import (
    MAX_ATTEMPTS,
    event_record,
    release_dedupe_key,
    status_announce,
)
from tenants.sources import Source

logger = logging.getLogger(__name__)

LOST_TASK_AFTER = datetime.timedelta(minutes=2)
DEAD_WORKER_AFTER = datetime.timedelta(minutes=5)
# An unknown outcome is looked up at the next pass after this, once Twilio's list shows it.
UNKNOWN_OUTCOME_AFTER = datetime.timedelta(minutes=1)
# A match was created by Twilio between shortly before ``submitted_at`` (clocks differ) and
# the end of the send's HTTP timeouts, with room to spare.
MATCH_BEFORE = datetime.timedelta(minutes=2)
MATCH_AFTER = datetime.timedelta(minutes=5)
STALE_AFTER = datetime.timedelta(hours=24)
# Past this, Twilio will not report anything more: stop asking.
STALE_UNTIL = datetime.timedelta(days=7)
UNFINISHED = (Status.ACCEPTED, Status.QUEUED, Status.SENDING, Status.SENT)
BATCH = 200
# A pass stops asking Twilio after this, well inside beat's minute and the task's time limit;
# the next pass goes on where it stopped.
TIME_BUDGET = 45.0


@dataclass
class SweepResult:
    """What a pass did. ``unreachable`` holds the accounts Twilio failed to answer for: their
    other rows wait for the next pass instead of each waiting for a timeout."""

    requeued: int = 0
    adopted: int = 0
    resent: int = 0
    gave_up: int = 0
    ambiguous: int = 0
    fetched: int = 0
    twilio_errors: int = 0
    unreachable: set[str] = field(default_factory=set)
    # Rows Twilio could not be asked about: moved to the back of the line (updated_at), so that
    # a failing account never starves the others.
    postponed: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if type(v) is int}


def messages_sweep(
    *, now: datetime.datetime | None = None, time_budget: float = TIME_BUDGET
) -> SweepResult:
    now = now or timezone.now()
    deadline = time.monotonic() + time_budget
    result = SweepResult()
    result.requeued = _requeue_lost(now, deadline)
    for message in _unresolved(now):
        if time.monotonic() > deadline:
            break
        _reconcile(message, now, result)
    for message in _stale(now):
        if time.monotonic() > deadline:
            break
        _fetch_status(message, now, result)
    Message.objects.filter(pk__in=result.postponed).update(updated_at=now)
    done = {k: v for k, v in result.counts().items() if v}
    if done:
        logger.info("sweep: %s", ", ".join(f"{k} {v}" for k, v in done.items()))
    return result


def _gateway(
    credentials: TwilioCredentials, message: Message, result: SweepResult
) -> TwilioGateway | None:
    if credentials.account_sid in result.unreachable:
        result.postponed.append(message.pk)
        return None
    return TwilioGateway(credentials.account_sid, credentials.auth_token())


def _unreachable(
    credentials: TwilioCredentials, message: Message, error: TwilioError, result: SweepResult
) -> None:
    logger.warning("sweep: Twilio did not answer for %r: %s", message, error)
    result.twilio_errors += 1
    result.unreachable.add(credentials.account_sid)
    result.postponed.append(message.pk)
    connection_note_twilio_error(connection=credentials.connection, error=error)


# --- Lost tasks ------------------------------------------------------------------------------


def _requeue_lost(now: datetime.datetime, deadline: float) -> int:
    """Lost tasks enqueued again, ``BATCH`` rows a transaction (one set of send batches each,
    never a task per message), until none is left or the pass's time is up: after the broker
    or the database was gone for seconds, thousands may be waiting, and a pass of one batch a
    minute took eight minutes to clear 1,468 of them."""
    cutoff = now - LOST_TASK_AFTER
    count = 0
    while True:
        with transaction.atomic():
            # Locked, so a send task claiming one of them waits for the new enqueued_at.
            lost = list(
                Message.objects.select_for_update(skip_locked=True)
                .filter(status=Status.PENDING, enqueued_at__lt=cutoff)
                .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
                .order_by("enqueued_at")[:BATCH]
            )
            ids = [message.pk for message in lost]
            Message.objects.filter(pk__in=ids).update(enqueued_at=now, updated_at=now)
            for message in lost:
                event_record(message, "requeued", enqueued_at=str(message.enqueued_at))
            if ids:
                send_on_commit(ids)
        count += len(ids)
        if len(ids) < BATCH or time.monotonic() > deadline:
            return count


# --- Dead workers and unknown outcomes -------------------------------------------------------


def _unresolved(now: datetime.datetime) -> list[Message]:
    """``submitting`` rows a worker left (over five minutes), or whose call had an unknown
    outcome (the send task keeps them ``submitting`` with the error it got)."""
    dead = Q(submitted_at__lt=now - DEAD_WORKER_AFTER)
    unknown = Q(submitted_at__lt=now - UNKNOWN_OUTCOME_AFTER) & ~Q(error_message="")
    return list(
        Message.objects.filter(status=Status.SUBMITTING, needs_attention=False)
        .filter(dead | unknown)
        .select_related("organization", "connection__twilio")
        .order_by("updated_at")[:BATCH]
    )


def _matches(
    message: Message, credentials: TwilioCredentials, found: list[MessageRecord]
) -> list[MessageRecord]:
    submitted = message.submitted_at or timezone.now()  # always set on a submitting row
    start, end = submitted - MATCH_BEFORE, submitted + MATCH_AFTER
    service, number = _sender(message, credentials)
    candidates = [
        record
        for record in found
        if record.to == message.to
        and record.body == message.body
        and (record.messaging_service_sid == service if service else record.from_ == number)
        and record.date_created is not None
        and start <= record.date_created <= end
    ]
    # A message Twilio created for another of our rows is that row's, not this one's.
    taken = set(
        Message.objects.filter(sid__in=[c.sid for c in candidates]).values_list("sid", flat=True)
    )
    return [c for c in candidates if c.sid not in taken]


def _sender(message: Message, credentials: TwilioCredentials) -> tuple[str, str]:
    """(Messaging Service SID, number) the message was sent from: recorded with the claim;
    the connection's for rows claimed before that was recorded."""
    if message.messaging_service_sid or message.from_number:
        return message.messaging_service_sid, message.from_number
    return credentials.messaging_service_sid, credentials.phone_number


def _reconcile(message: Message, now: datetime.datetime, result: SweepResult) -> None:
    credentials = twilio_credentials(message.connection)
    if credentials is None:
        _needs_attention(message, "The connection is gone, so Twilio cannot be asked.", [])
        result.ambiguous += 1
        return
    gateway = _gateway(credentials, message, result)
    if gateway is None:
        return
    try:
        service, number = _sender(message, credentials)
        found = gateway.list_messages(to=message.to, from_="" if service else number)
    except TwilioError as error:
        _unreachable(credentials, message, error, result)
        return
    matches = _matches(message, credentials, found)
    if len(matches) == 1:
        _adopt(message, credentials, matches[0], result)
    elif not matches:
        _send_again(message, now, result)
    else:
        _needs_attention(message, "Twilio has several messages that could be this one.", matches)
        result.ambiguous += 1


def _adopt(
    message: Message,
    credentials: TwilioCredentials,
    record: MessageRecord,
    result: SweepResult,
) -> None:
    try:
        adopted = message_adopt(message, record)
    except IntegrityError:  # the SID was stored on another row meanwhile
        _needs_attention(message, "Twilio's match belongs to another message.", [record])
        result.ambiguous += 1
        return
    result.adopted += adopted


def _send_again(message: Message, now: datetime.datetime, result: SweepResult) -> None:
    if message.attempts >= MAX_ATTEMPTS:
        reason = f"Not sent after {message.attempts} attempts."
        if message_give_up(message, reason, detail="gave up", attempts=message.attempts):
            result.gave_up += 1
    elif message_send_again(message, detail="Twilio has no such message"):
        result.resent += 1


# The three ways a ``submitting`` message is settled, here and by a person (attention.py).
# Each changes the row only if it is as the caller loaded it, and records an event.


def _unchanged(message: Message) -> QuerySet[Message]:
    return Message.objects.filter(
        pk=message.pk, status=Status.SUBMITTING, needs_attention=message.needs_attention
    )


def message_adopt(
    message: Message, record: MessageRecord, *, source: Source = Source.SYSTEM, **event: Any
) -> bool:
    """Twilio has it: its SID and status are the message's (nothing is sent again)."""
    status = record.status if record.status in RANK else Status.QUEUED
    with transaction.atomic():
        adopted = _unchanged(message).update(
            sid=record.sid,
            status=status,
            needs_attention=False,
            from_number=record.from_ or message.from_number,
            messaging_service_sid=record.messaging_service_sid,
            error_code=record.error_code,
            error_message=StatusMove.to(status, error_code=record.error_code).error_message,
            updated_at=timezone.now(),
        )
        if adopted:
            event_record(message, "adopted", sid=record.sid, twilio_status=record.status, **event)
            status_announce(message, status, error_code=record.error_code, source=source)
    return bool(adopted)


def message_send_again(message: Message, **event: Any) -> bool:
    """Twilio never got it: back to ``pending``, its dedupe key free, its task enqueued."""
    now = timezone.now()
    with transaction.atomic():
        again = _unchanged(message).update(
            status=Status.PENDING,
            needs_attention=False,
            send_after=None,
            enqueued_at=now,
            error_code=None,
            error_message="",
            updated_at=now,
        )
        if again:
            release_dedupe_key(message)
            event_record(message, "resent", **event)
            send_on_commit([message.pk])
    return bool(again)


def message_give_up(
    message: Message, reason: str, *, source: Source = Source.SYSTEM, **event: Any
) -> bool:
    """It will not be sent: ``failed`` with the reason in words."""
    with transaction.atomic():
        failed = _unchanged(message).update(
            status=Status.FAILED,
            needs_attention=False,
            error_message=reason,
            updated_at=timezone.now(),
        )
        if failed:
            release_dedupe_key(message)
            event_record(message, Status.FAILED, **event)
            status_announce(message, Status.FAILED, source=source)
    return bool(failed)


def _needs_attention(message: Message, reason: str, matches: list[MessageRecord]) -> None:
    with transaction.atomic():
        flagged = Message.objects.filter(pk=message.pk, status=Status.SUBMITTING).update(
            needs_attention=True, updated_at=timezone.now()
        )
        if flagged:
            event_record(message, "needs_attention", detail=reason, sids=[m.sid for m in matches])


# --- Final statuses that never came ----------------------------------------------------------


def _stale(now: datetime.datetime) -> list[Message]:
    return list(
        Message.objects.filter(
            status__in=UNFINISHED,
            sid__isnull=False,
            submitted_at__lt=now - STALE_AFTER,
            submitted_at__gte=now - STALE_UNTIL,
            updated_at__lt=now - STALE_AFTER,  # asked at most once a day
        )
        .select_related("connection__twilio")
        .order_by("updated_at")[:BATCH]
    )


def _fetch_status(message: Message, now: datetime.datetime, result: SweepResult) -> None:
    credentials = twilio_credentials(message.connection)
    if credentials is None or message.sid is None:
        Message.objects.filter(pk=message.pk).update(updated_at=now)
        return
    gateway = _gateway(credentials, message, result)
    if gateway is None:
        return
    try:
        record = gateway.fetch_message(message.sid)
    except TwilioError as error:
        _unreachable(credentials, message, error, result)
        return
    with transaction.atomic():
        if record is None:
            Message.objects.filter(pk=message.pk).update(updated_at=now)
            event_record(message, "status_fetched", detail="Twilio no longer has this message")
        else:
            move = StatusMove.to(record.status, error_code=record.error_code)
            if status_move(message_id=message.pk, move=move):
                status_announce(message, move.status, error_code=record.error_code)
            event_record(
                message,
                "status_fetched",
                error_code=record.error_code,
                twilio_status=record.status,
            )
    result.fetched += 1
