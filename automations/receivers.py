"""Listeners for the lower rooms' events: each only enqueues ``handle_event`` (kept in the
database when the broker refuses it: ``services.held_events``).

The signals are sent after the causing transaction commits, so a rolled-back change enrols
nobody. The event's key is drawn here, once: a retried task carries the same key, which is
what makes a repeated event enrol a contact once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.dispatch import receiver

from automations.services.held_events import event_enqueue
from automations.tasks import schedule_contact_dates
from automations.triggers import Event
from contacts import signals as contact_signals
from messaging import signals as message_signals

PAYLOAD = ("tag_name", "body", "is_keyword", "message_id", "batch")


def _enqueue(event_type: str, kwargs: dict[str, Any]) -> None:
    contact_ids = tuple(kwargs.get("contact_ids") or ())
    if not contact_ids or kwargs.get("automations") is False:  # an import not firing them
        return
    event = Event(
        type=event_type,
        organization_id=kwargs["organization_id"],
        contact_ids=contact_ids,
        source=kwargs["source"],
        key=uuid.uuid4().hex,
        data={k: kwargs[k] for k in PAYLOAD if k in kwargs},
    )
    event_enqueue(event=event.as_task_args())


@receiver(contact_signals.contact_created, dispatch_uid="automations.contact_created")
def on_contact_created(sender: object, **kwargs: Any) -> None:
    _enqueue("contact_created", kwargs)


@receiver(contact_signals.tag_added, dispatch_uid="automations.tag_added")
def on_tag_added(sender: object, **kwargs: Any) -> None:
    _enqueue("tag_added", kwargs)


@receiver(contact_signals.tag_removed, dispatch_uid="automations.tag_removed")
def on_tag_removed(sender: object, **kwargs: Any) -> None:
    _enqueue("tag_removed", kwargs)


@receiver(contact_signals.opted_out, dispatch_uid="automations.opted_out")
def on_opted_out(sender: object, **kwargs: Any) -> None:
    _enqueue("opted_out", kwargs)


@receiver(message_signals.inbound_received, dispatch_uid="automations.inbound_received")
def on_inbound_received(sender: object, **kwargs: Any) -> None:
    _enqueue("inbound_received", kwargs)


def _enqueue_dates(kwargs: dict[str, Any]) -> None:
    contact_ids = list(kwargs.get("contact_ids") or ())
    if contact_ids:
        schedule_contact_dates.delay(kwargs["organization_id"], contact_ids)


@receiver(contact_signals.contact_created, dispatch_uid="automations.dates.contact_created")
def on_contact_created_dates(sender: object, **kwargs: Any) -> None:
    _enqueue_dates(kwargs)


@receiver(contact_signals.contact_updated, dispatch_uid="automations.dates.contact_updated")
def on_contact_updated_dates(sender: object, **kwargs: Any) -> None:
    # What a date trigger reads of a contact is a custom field and the time zone (created_at
    # never changes); the task checks which custom field each automation reads.
    fields = kwargs.get("fields") or ()
    if any(f == "time_zone" or f.startswith("custom.") for f in fields):
        _enqueue_dates(kwargs)
