"""Helpers shared by the tests of the send rules, the send service and submitting."""

from __future__ import annotations

import datetime

from messaging.models import Message, MessageEvent, Status
from messaging.services.sending import message_send

ALICE = "+14155550123"
BOB = "+14155550177"
SID = "SM" + "5" * 32
T0 = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)


# --- The send rules -----------------------------------------------------------------------


def events(message: Message) -> list[tuple[str, dict]]:
    return [(e.status, e.params) for e in MessageEvent.objects.filter(message=message)]


def assert_suppressed(message: Message, reason: str) -> None:
    message.refresh_from_db()
    assert (message.status, message.suppressed_reason) == (Status.SUPPRESSED, reason)
    assert message.send_after is None
    assert message.submitted_at is None
    assert message.enqueued_at is None
    assert message.attempts == 0
    assert message.sid is None
    assert events(message) == [(Status.SUPPRESSED, {"reason": reason})]


# --- The send service ---------------------------------------------------------------------


def nothing_written() -> bool:
    return not Message.objects.exists() and not MessageEvent.objects.exists()


# --- Submitting ---------------------------------------------------------------------------


def event_rows(message: Message) -> list[tuple[str, int | None]]:
    return list(MessageEvent.objects.filter(message=message).values_list("status", "error_code"))


def created_unsent(personas, commit, **kwargs) -> tuple[Message, list]:
    """A committed pending message whose enqueue callback has not run yet."""
    with commit(execute=False) as callbacks:
        message = message_send(organization=personas.org, source="test", **kwargs)
    assert len(callbacks) == 1
    return message, callbacks
