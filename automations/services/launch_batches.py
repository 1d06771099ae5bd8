"""A bulk change's launch: the change (a bulk tag, an import firing automations) arrives in
chunks, its events carrying the change's ``batch`` (key and total); each chunk's event counts
itself into one launch per automation (``launch_for_batch``), so its progress shows as a
manual run's does, and a cancelled launch takes no further chunk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from automations.models import OPEN_LAUNCH_STATES, Automation, Launch, LaunchKind, LaunchState
from automations.services.engine import runs_advance_ids
from automations.services.enrolment import Enrolled, runs_enrol
from automations.services.launches import launch_add, launch_finish
from tenants.sources import Source


def launch_for_batch(
    *,
    automation: Automation,
    batch: Mapping[str, Any],
    audience: Mapping[str, Any],
    source: str = Source.SYSTEM,
) -> Launch:
    """The launch that follows a bulk change's events for this automation (made by the
    first of its chunks to arrive)."""
    key = f"batch:{batch['key']}"
    try:
        with transaction.atomic():
            launch, _ = Launch.objects.get_or_create(
                automation=automation,
                event_key=key,
                defaults={
                    "organization_id": automation.organization_id,
                    "kind": LaunchKind.BULK_EVENT,
                    "audience": dict(audience),
                    "total": int(batch["total"]),
                    "source": source,
                },
            )
    except IntegrityError:  # another chunk made it at the same moment
        launch = Launch.objects.get(automation=automation, event_key=key)
    return launch


def batch_enrol(
    *,
    automation: Automation,
    batch: Mapping[str, Any],
    audience: Mapping[str, Any],
    contact_ids: tuple[int, ...],
    key: str,
    source: str,
) -> Enrolled:
    """One chunk of a bulk change: enrolled and counted into its launch together (nothing
    once the launch is cancelled); the first steps run after the commit."""
    launch = launch_for_batch(automation=automation, batch=batch, audience=audience, source=source)
    with transaction.atomic():
        launch = Launch.objects.select_for_update().get(pk=launch.pk)
        # A failed one was given up by the sweeper while its chunks waited in a busy queue:
        # a late chunk is still enrolled, and the launch is open again.
        if launch.state not in (*OPEN_LAUNCH_STATES, LaunchState.FAILED):
            return Enrolled()
        result = runs_enrol(
            automation=automation, contact_ids=contact_ids, key=key, source=source, advance=False
        )
        launch_add(launch, result)
        if launch.done >= launch.total:
            launch_finish(launch, LaunchState.COMPLETED)
        elif launch.state == LaunchState.FAILED:
            launch.state, launch.error, launch.finished_at = LaunchState.RUNNING, "", None
            launch.save(update_fields=["state", "error", "finished_at", "updated_at"])
    if result.created:
        runs_advance_ids(result.created, send_total=launch.total, facts=result.facts)
    return result
