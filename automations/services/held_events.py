"""Events the broker refused, kept until it answers again.

A receiver enqueues ``handle_event`` once the change that caused it has committed; with the
broker down, the change is stored and only the event would be lost (and the request that made
the change would fail after the fact). ``event_enqueue`` keeps such an event as a
``HeldEvent`` row instead, and ``held_events_replay`` (beat, every ten seconds) hands the rows
to the broker again, oldest first, deleting each only once the broker took it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError

from automations.models import HeldEvent

logger = logging.getLogger(__name__)

REPLAY_BATCH = 500


def event_enqueue(*, event: dict[str, Any]) -> bool:
    """Hands the event to ``handle_event``; False when the broker refused it and it is held."""
    from automations.tasks import handle_event  # tasks import services, not the reverse

    try:
        handle_event.delay(event)
    except OperationalError as error:
        HeldEvent.objects.create(organization_id=event["organization_id"], event=event)
        logger.warning("event held, the broker did not take it: %s %s", event["type"], error)
        return False
    return True


def held_events_replay() -> int:
    """Hands held events to the broker again; returns how many it took. Stops at the first
    refusal (the broker is still down: the next pass tries again)."""
    from automations.tasks import handle_event

    replayed = 0
    with transaction.atomic():
        held = list(
            HeldEvent.objects.select_for_update(skip_locked=True).order_by("created_at", "pk")[
                :REPLAY_BATCH
            ]
        )
        for row in held:
            try:
                handle_event.delay(row.event)
            except OperationalError:
                break
            row.delete()
            replayed += 1
    if replayed:
        logger.info("held events replayed: %s", replayed)
    return replayed
