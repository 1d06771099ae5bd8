"""The messaging room's outbound webhook events (``tenants.outbound``), recorded in the
transaction of the change, with the message as this room's API shows it
(``MessageSerializer``):

- ``message.status_changed``: once per message per status it actually moved to (a Twilio
  status, or ``suppressed`` at send time), from every path that announces
  ``message_status_changed``: the send task, the status callbacks, the sweeper, a person's
  decision;
- ``message.received``: an inbound message, once stored.

Each asks ``wanted`` first (one cached read), so the send task and the status callbacks read
and serialize nothing for an organization without a subscribed endpoint. The status callback
records its event as a snapshot of the row in its own statement on PostgreSQL
(``callback_sql``); ``message_from_snapshot`` renders it when it is first delivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any
from uuid import UUID

from contacts.models import Contact
from messaging.models import Message
from messaging.serializers import MessageSerializer
from tenants.outbound import services as outbound

STATUS_CHANGED = "message.status_changed"
RECEIVED = "message.received"
CHUNK = 500


def status_changed_wanted(organization_id: int) -> bool:
    return outbound.wanted(organization_id, STATUS_CHANGED)


@outbound.in_utc
def messages_status_record(*, organization_id: int, message_ids: Sequence[int]) -> None:
    if not message_ids or not status_changed_wanted(organization_id):
        return
    for start in range(0, len(message_ids), CHUNK):
        chunk = list(message_ids[start : start + CHUNK])
        messages = Message.objects.filter(pk__any=chunk).select_related("contact").order_by("pk")
        outbound.events_record(
            organization_id=organization_id,
            type=STATUS_CHANGED,
            data=list(MessageSerializer(messages, many=True).data),  # fields built once
        )


@cache
def _serializer() -> MessageSerializer:
    """One serializer, its fields built once (DRF builds them per instance: 0.8 ms); reading
    a message with it changes nothing in it, so threads may share it."""
    return MessageSerializer()


@outbound.in_utc
def message_from_snapshot(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """A message as the API shows it, from the snapshot the status callback's statement took
    (its columns as ``to_jsonb`` gives them, and ``contact_public_id``)."""
    message = Message(
        **{
            field.attname: field.to_python(row[field.column])
            for field in Message._meta.concrete_fields
            if field.column in row
        }
    )
    if message.contact_id is not None and row.get("contact_public_id"):
        message.contact = Contact(pk=message.contact_id, public_id=UUID(row["contact_public_id"]))
    return dict(_serializer().to_representation(message))


@outbound.in_utc
def message_received_record(message: Message) -> None:
    if outbound.wanted(message.organization_id, RECEIVED):
        outbound.event_record(
            organization_id=message.organization_id,
            type=RECEIVED,
            data=_serializer().to_representation(message),
        )
