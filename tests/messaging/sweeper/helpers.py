"""Builders for the sweeper's tests: messages in each state a sweep meets, and Twilio's
answers to its list and fetch calls, mocked at the HTTP level."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import responses

from messaging.models import Message, MessageEvent, Status
from messaging.services.sending import message_send
from messaging.services.sweeper import SweepResult
from tests import twilio_mocks as tw
from tests.messaging.helpers import (
    MESSAGES_URL,
    message_json,
)
from tests.messaging.send_helpers import T0 as T0  # where the ``clock`` fixture starts

ALICE = "+14155550123"
SID = "SM" + "a" * 32
OTHER_SID = "SM" + "b" * 32
NEW_SID = "SM" + "c" * 32

MESSAGES_PATH = f"/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Messages"
LIST = f"GET {MESSAGES_PATH}.json?To=%2B14155550123&From=%2B14155550100&PageSize=50"
LIST_FOR_SERVICE = f"GET {MESSAGES_PATH}.json?To=%2B14155550123&PageSize=50"
CREATE = f"POST {MESSAGES_PATH}.json"
FETCH = f"GET {MESSAGES_PATH}/{SID}.json"
FETCH_URL = f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/Messages/{SID}.json"

Capture = Callable[..., Any]


def done(result: SweepResult) -> dict[str, int]:
    """What a pass did: its non-zero counts."""
    return {name: count for name, count in result.counts().items() if count}


def ago(**delta: float) -> datetime.datetime:
    return T0 - datetime.timedelta(**delta)


def events(message: Message) -> list[str]:
    return list(MessageEvent.objects.filter(message=message).values_list("status", flat=True))


def event(message: Message, status: str) -> MessageEvent:
    return MessageEvent.objects.get(message=message, status=status)


def row(message: Message) -> dict[str, Any]:
    return dict(Message.objects.filter(pk=message.pk).values().get())


def postponed(message: Message, before: dict[str, Any]) -> bool:
    """Unchanged but moved to the back of the sweeper's line (``updated_at`` now)."""
    now = row(message)
    return now.pop("updated_at") == T0 and now == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def created(capture: Capture, personas: Any, **kwargs: Any) -> Message:
    """A committed ``pending`` message whose send task was never run (the broker lost it)."""
    kwargs.setdefault("organization", personas.org)
    kwargs.setdefault("to", ALICE)
    kwargs.setdefault("body", "Hi")
    with capture(execute=False):
        message = message_send(source="test", **kwargs)
    assert message.status == Status.PENDING
    return message


def submitting(
    capture: Capture,
    personas: Any,
    *,
    since: datetime.timedelta,
    organization: Any = None,
    **fields: Any,
) -> Message:
    """A message a worker claimed ``since`` ago and never finished (the worker died)."""
    message = created(capture, personas, organization=organization or personas.org)
    fields.setdefault("attempts", 1)
    Message.objects.filter(pk=message.pk).update(
        status=Status.SUBMITTING, enqueued_at=T0 - since, submitted_at=T0 - since, **fields
    )
    message.refresh_from_db()
    return message


def handed_over(
    capture: Capture,
    personas: Any,
    *,
    status: str = Status.SENT,
    submitted: datetime.datetime,
    updated: datetime.datetime,
    sid: str = SID,
    **kwargs: Any,
) -> Message:
    """A message Twilio accepted (it has a SID) whose final status callback never came."""
    message = created(capture, personas, **kwargs)
    Message.objects.filter(pk=message.pk).update(
        status=status,
        sid=sid,
        from_number=tw.NUMBER,
        attempts=1,
        enqueued_at=submitted,
        submitted_at=submitted,
        updated_at=updated,
    )
    message.refresh_from_db()
    return message


def candidate(
    *,
    sid: str,
    created: datetime.datetime,
    body: str = "Hi",
    from_: str | None = tw.NUMBER,
    status: str = "sent",
    service: str | None = None,
) -> dict[str, Any]:
    """One message of Twilio's list to ALICE."""
    return message_json(
        to=ALICE,
        body=body,
        from_=from_,
        sid=sid,
        status=status,
        messaging_service_sid=service,
        created=created,
    )


def twilio_lists(rsps: responses.RequestsMock, *found: dict[str, Any]) -> None:
    """``GET .../Messages.json``: Twilio's list answer (one page, newest first)."""
    uri = f"{MESSAGES_PATH}.json?To=%2B14155550123&PageSize=50&Page=0"
    rsps.get(
        MESSAGES_URL,
        json={
            "messages": list(found),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": 50,
            "previous_page_uri": None,
            "uri": uri,
            "start": 0,
            "end": max(len(found) - 1, 0),
        },
    )


def twilio_fetches(
    rsps: responses.RequestsMock, status: str, *, error_code: int | None = None
) -> None:
    """``GET .../Messages/{SID}.json``: the message as Twilio knows it now."""
    body = message_json(to=ALICE, body="Hi", sid=SID, status=status, created=ago(hours=25))
    if error_code is not None:
        body.update(error_code=error_code, error_message="Unreachable destination handset")
    rsps.get(FETCH_URL, json=body)


DEAD = datetime.timedelta(minutes=6)


# Organization B's Twilio account, for tests where two tenants use two accounts.
OTHER_ACCOUNT = "AC" + "d" * 32
