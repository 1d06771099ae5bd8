"""What a failed call to Twilio does to its message (step 3, the outcomes of a
``TwilioError``), recorded as soon as the call fails:

- **unknown outcome**: the row stays ``submitting`` with the error; the sweeper decides;
- **retry**: back to ``pending`` after a backoff (``backoff``), up to ``MAX_ATTEMPTS``;
- **permanent** (or the retries exhausted): ``failed``; 21610 also opts the number out, and
  the connection notes the error (an authentication failure marks it ``failing``).
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from connections.models import Connection
from connections.services.connections import connection_note_twilio_error
from connections.twilio_errors import ErrorKind, TwilioError
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from messaging.models import Message, Status
from messaging.services.recording import event_record, release_dedupe_key, status_announce

MAX_ATTEMPTS = 5
BACKOFF_BASE = datetime.timedelta(seconds=30)
LONG_BACKOFF_BASE = datetime.timedelta(minutes=5)
BACKOFF_CAP = datetime.timedelta(hours=1)


def backoff(attempt: int, *, long: bool) -> datetime.timedelta:
    """Exponential, capped, with ±20% jitter so retries of a burst do not arrive together."""
    base = LONG_BACKOFF_BASE if long else BACKOFF_BASE
    delay: datetime.timedelta = min(base * (2 ** max(attempt - 1, 0)), BACKOFF_CAP)
    jitter = random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
    return delay * jitter


def _finish(message: Message, **fields: object) -> int:
    """Updates the row only while it is still ours (``submitting``)."""
    fields["updated_at"] = timezone.now()
    return Message.objects.filter(pk=message.pk, status=Status.SUBMITTING).update(**fields)


def failed_call_record(message: Message, connection: Connection, error: TwilioError) -> str:
    """Records what the error means for the message; returns the outcome, for logs and tests."""
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
    with transaction.atomic():  # the status and its outbound webhook event together
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
