"""Launches: an automation fired for many contacts at once, worked a chunk at a time.

A manual run (**Run now**) or a backfill goes to an audience, read in contact id order: each
chunk is the next ``CHUNK`` contacts after the launch's ``cursor``, enrolled by ``runs_enrol``
in the same transaction that moves the cursor and the counts on, under a lock on the launch
row. So a chunk happens once or not at all: a worker killed mid-launch leaves the launch at
the chunk it was doing (the sweeper, ``launches_resume``, starts it again), two workers never
do the same chunk, and the enrolments' ``event_key`` makes even a repeated chunk enrol
nobody twice. The first steps of a chunk's enrolments run after its commit; should the worker
die in between, they are due, and the beat's pass runs them.

A bulk change (a bulk tag, an import) already arrives in chunks, each counted into one launch
per automation by ``launch_batches``, so its progress shows the same way.

No request and no transaction ever holds a whole audience: creating a launch counts the
audience and enqueues the work; each chunk is its own transaction.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from automations.definition.audience import audience_clean
from automations.models import (
    OPEN_LAUNCH_STATES,
    Automation,
    AutomationRun,
    Launch,
    LaunchKind,
    LaunchState,
    State,
)
from automations.services.audience import audience_contacts
from automations.services.date_backfill import dates_backfill_chunk, dates_backfill_count
from automations.services.engine import runs_advance_ids
from automations.services.enrolment import Enrolled, runs_enrol
from automations.services.facts import ContactFacts
from automations.services.outbound import launch_completed_record
from automations.services.preflight import Preflight, preflight_run, preflight_stale
from contacts.models import Contact
from tenants.audit.models import Action, TargetType
from tenants.audit.services import Target, audit_record
from tenants.errors import ConflictError
from tenants.models import User
from tenants.sources import Source

logger = logging.getLogger(__name__)

CHUNK = 1000
# A launch's task works for this long, then hands over to a fresh task (a task never runs into
# Celery's time limits, and other work gets a turn).
BUDGET_SECONDS = 60.0
# An open launch untouched for this long has lost its worker: the sweeper starts it again.
STALE_AFTER = datetime.timedelta(minutes=2)
# Tasks working one launch side by side (the compose file's `default` worker runs two
# processes): each takes the launch row's lock only while it enrols its chunk, then runs that
# chunk's first steps while the other enrols the next. 1.5 times one task's pace on 2 cores
# (bench.launches).
WORKERS = 2


def _work(launch_id: int) -> None:
    from automations.tasks import work_launch  # the tasks import this module

    for _ in range(WORKERS):
        work_launch.delay(launch_id)


def _enqueue(launch: Launch) -> None:
    launch_id = launch.pk
    transaction.on_commit(lambda: _work(launch_id))


# A date backfill's audience: the contacts whose date fell in the last days
# (``date_backfill.dates_backfill_chunk``), not rules a query can hold.
DATE_BACKFILL: dict[str, Any] = {"date_backfill": True}


def backfill_audience(automation: Automation) -> dict[str, Any] | None:
    """Who "already matches" the automation's trigger, for the backfill its activation offers:
    the contacts with the tag of a ``tag_added`` trigger, those whose date of a ``date_field``
    trigger fell in the last days; None for other triggers."""
    version = automation.live_version
    trigger = version.definition["trigger"] if version else {}
    if trigger.get("type") == "tag_added":
        return {"has_all_tags": [trigger["tag"]]}
    if trigger.get("type") == "date_field":
        return dict(DATE_BACKFILL)
    return None


def backfill_offer(automation: Automation) -> int:
    """How many contacts already match the active automation's trigger and never met it, for
    the backfill its activation offers: 0 when the trigger has no backfill or one was launched
    already. (Those the trigger itself enrolled, or skipped, since activation are not offered.)"""
    if automation.state != State.ACTIVE:
        return 0
    audience = backfill_audience(automation)
    if audience is None or automation.launches.filter(kind=LaunchKind.BACKFILL).exists():
        return 0
    if audience == DATE_BACKFILL:
        return dates_backfill_count(automation)
    met = AutomationRun.objects.filter(automation=automation).values("contact_id")
    return audience_contacts(automation.organization, audience).exclude(pk__in=met).count()


def _date_matches(automation: Automation) -> dict[int, str]:
    _, occurrences = dates_backfill_chunk(automation, after_id=0, limit=2**62)
    return occurrences


def launch_audience(
    automation: Automation, audience: Mapping[str, Any] | None, kind: str
) -> dict[str, Any]:
    """The audience a launch of this kind records: a manual run's, cleaned (``ApplicationError``
    naming the field), or the backfill's own."""
    if kind == LaunchKind.BACKFILL:
        found = backfill_audience(automation)
        if found is None:
            raise ConflictError(
                "Only a tag-added or date automation has contacts who already match.",
                code="no_backfill",
            )
        return found
    if kind != LaunchKind.MANUAL:
        raise ValueError(f"launch_create makes manual runs and backfills, not {kind}")
    return audience_clean(audience)


def launch_count(automation: Automation, audience: Mapping[str, Any]) -> int:
    if audience == DATE_BACKFILL:
        return dates_backfill_count(automation)
    return audience_contacts(automation.organization, audience).count()


def launch_preflight(
    *,
    automation: Automation,
    audience: Mapping[str, Any] | None = None,
    kind: str = LaunchKind.MANUAL,
) -> Preflight:
    """The preflight of a manual run to ``audience`` or of the automation's backfill."""
    cleaned = launch_audience(automation, audience, kind)
    organization = automation.organization
    if cleaned != DATE_BACKFILL:
        contacts = audience_contacts(organization, cleaned)
        return preflight_run(automation=automation, contacts=contacts)
    # Enrolled once per date, whatever the re-entry policy: refused only if already in for it.
    occurrences = _date_matches(automation)
    ids = list(occurrences)
    enrolled = AutomationRun.objects.filter(
        automation=automation,
        contact_id__any=ids,
        occurrence_key__any=sorted(set(occurrences.values())),
    ).values_list("contact_id", "occurrence_key")
    return preflight_run(
        automation=automation,
        contacts=Contact.objects.filter(organization=organization, pk__any=ids),
        reentry_ids={pk for pk, key in enrolled if occurrences.get(pk) == key},
    )


def launch_create(
    *,
    automation: Automation,
    audience: Mapping[str, Any] | None = None,
    kind: str = LaunchKind.MANUAL,
    by: User | None = None,
    source: str = Source.UI,
    preflight: Mapping[str, Any] | None = None,
    once: str = "",
) -> Launch:
    """A manual run to ``audience`` or the automation's backfill: counted now, worked by a
    task. With ``preflight`` (the figures the confirmation showed), refused when the audience
    has changed by more than 1% since they were counted, and recorded. With ``once`` (the
    confirmation's own key), a confirmation sent twice (a double click, a resent form) starts
    one launch: the second call returns the first's."""
    event_key = f"launch:{once}" if once else ""
    if event_key and (earlier := automation.launches.filter(event_key=event_key).first()):
        return earlier
    cleaned = launch_audience(automation, audience, kind)
    if refusal := launch_refusal(automation):
        raise ConflictError(refusal, code="automation_not_active")
    if (
        kind == LaunchKind.BACKFILL
        and cleaned != DATE_BACKFILL  # a date's enrolment is once per occurrence anyway
        and automation.launches.filter(kind=kind).exists()
    ):
        # Under "every time" re-entry a second tag backfill would text everyone again.
        raise ConflictError(
            "The contacts who already matched were enrolled by this automation's backfill; "
            "use Run now to send it to an audience again.",
            code="already_backfilled",
        )
    total = launch_count(automation, cleaned)
    if preflight is not None and (stale := preflight_stale(preflight, total)):
        raise ConflictError(stale, code="preflight_stale")
    launch = Launch(
        organization_id=automation.organization_id,
        automation=automation,
        kind=kind,
        audience=cleaned,
        total=total,
        preflight=dict(preflight or {}),
        created_by=by,
        source=source,
    )
    launch.event_key = event_key or f"launch:{launch.public_id}"
    try:
        with transaction.atomic():
            launch.save()
            _audit(
                launch, Action.LAUNCH_STARTED, by, {"contacts": {"before": None, "after": total}}
            )
            _enqueue(launch)
    except IntegrityError:  # the same confirmation, at the same moment
        if not event_key:
            raise
        return automation.launches.get(event_key=event_key)
    logger.info(
        "launch %s of automation %s: %s to %s contacts",
        launch.public_id,
        automation.public_id,
        kind,
        launch.total,
    )
    return launch


def launch_finish(launch: Launch, state: str, error: str = "") -> None:
    launch.state, launch.error, launch.finished_at = state, error[:200], timezone.now()
    launch.save(update_fields=["state", "error", "finished_at", "updated_at"])
    if state == LaunchState.COMPLETED:
        launch_completed_record(launch)
    logger.info("launch %s %s: %s of %s done", launch.public_id, state, launch.done, launch.total)


def launch_add(launch: Launch, result: Enrolled, *, cursor: int | None = None) -> None:
    """Adds a chunk's result to the launch (in the chunk's transaction, under its lock)."""
    launch.done += result.handled
    launch.enrolled += len(result.created)
    launch.skipped += result.skipped
    # Contacts the audience gained since it was counted are worked too: the total follows.
    launch.total = max(launch.total, launch.done)
    fields = ["done", "enrolled", "skipped", "total", "updated_at"]
    if cursor is not None:
        launch.cursor = cursor
        fields.append("cursor")
    if launch.state == LaunchState.PREPARING:
        launch.state, launch.started_at = LaunchState.RUNNING, timezone.now()
        fields += ["state", "started_at"]
    launch.save(update_fields=fields)


@dataclass
class Chunk:
    """What ``launch_chunk`` did: whether more chunks are left, the new enrolments (whose
    first steps the caller runs once the chunk has committed, with the facts their enrolment
    read) and the launch's total (their sends are batched for it)."""

    more: bool
    created: list[int] = field(default_factory=list)
    total: int = 0
    facts: ContactFacts | None = None


def launch_chunk(launch_id: int) -> Chunk:
    """Works the launch's next chunk in one transaction."""
    with transaction.atomic():
        launch = (
            Launch.objects.select_for_update(of=("self",))
            .select_related("automation__organization")
            .get(pk=launch_id)
        )
        automation = launch.automation
        if launch.state not in OPEN_LAUNCH_STATES or launch.kind == LaunchKind.BULK_EVENT:
            return Chunk(more=False)
        if automation.state == State.ARCHIVED:
            launch_finish(launch, LaunchState.CANCELLED, "The automation was archived.")
            return Chunk(more=False)
        if automation.state != State.ACTIVE:  # paused: held, resumed with the automation
            return Chunk(more=False)
        if launch.audience == DATE_BACKFILL:
            last, occurrences = dates_backfill_chunk(
                automation, after_id=launch.cursor, limit=CHUNK
            )
            ids = list(occurrences)
        else:
            occurrences = None
            ids = list(
                audience_contacts(automation.organization, launch.audience)
                .filter(pk__gt=launch.cursor)
                .order_by("pk")
                .values_list("pk", flat=True)[:CHUNK]
            )
            last = ids[-1] if ids else None
        if last is None:
            launch_finish(launch, LaunchState.COMPLETED)
            return Chunk(more=False)
        result = (
            runs_enrol(
                automation=automation,
                contact_ids=ids,
                key=launch.event_key,
                source=launch.source,
                advance=False,
                occurrences=occurrences,
            )
            if ids
            else Enrolled()  # a date backfill's chunk may hold nobody whose date fell lately
        )
        # Done: every contact of the chunk this launch had not handled before (one deleted
        # since it was read too), so a chunk worked twice is counted once.
        launch_add(launch, result, cursor=last)
    return Chunk(True, result.created, launch.total, result.facts)


def launch_work(launch_id: int, *, budget_seconds: float = BUDGET_SECONDS) -> bool:
    """Works chunks (each then its first steps) until the launch ends or the time is up;
    returns whether more are left (the task then enqueues itself again)."""
    began = time.monotonic()
    while True:
        chunk = launch_chunk(launch_id)
        if chunk.created:
            # Sent in batches sized for the whole launch: a chunk's 1,000 first messages go
            # as two send tasks of 500, not a hundred of 10 (the broker's round trips cost a
            # fifth of a launch).
            runs_advance_ids(chunk.created, send_total=chunk.total, facts=chunk.facts)
        if not chunk.more:
            return False
        if time.monotonic() - began >= budget_seconds:
            return True


def launch_cancel(*, launch: Launch, by: User | None = None) -> Launch:
    """Stops the launch before its next chunk (enrolments made so far go on)."""
    with transaction.atomic():
        locked = Launch.objects.select_for_update().get(pk=launch.pk)
        if locked.state not in OPEN_LAUNCH_STATES:
            raise ConflictError(
                f"This launch is {locked.get_state_display().lower()}: there is nothing to cancel.",
                code="launch_not_open",
            )
        locked.cancelled_by = by
        locked.save(update_fields=["cancelled_by"])
        launch_finish(locked, LaunchState.CANCELLED)
        _audit(
            locked, Action.LAUNCH_CANCELLED, by, {"done": {"before": None, "after": locked.done}}
        )
    return locked


def _audit(launch: Launch, action: Action, by: User | None, changes: dict[str, Any]) -> None:
    label = f"{launch.get_kind_display()} of “{launch.automation.name}”"
    target = Target.of(TargetType.LAUNCH, launch, label)
    audit_record(
        organization=launch.automation.organization,
        action=action,
        target=target,
        changes=changes,
        actor=by,
    )


def launches_resume(*, now: datetime.datetime | None = None) -> int:
    """The sweeper: open launches of active automations that no worker has touched lately
    are enqueued again (a killed worker's launch carries on where it stopped)."""
    now = now or timezone.now()
    stale = Launch.objects.filter(
        state__in=OPEN_LAUNCH_STATES,
        updated_at__lt=now - STALE_AFTER,
        automation__state=State.ACTIVE,
    ).exclude(kind=LaunchKind.BULK_EVENT)
    ids = list(stale.values_list("pk", flat=True)[:100])
    for launch_id in ids:
        # Touched now, so that the next pass does not enqueue it again while it waits.
        Launch.objects.filter(pk=launch_id).update(updated_at=now)
        _work(launch_id)
    if ids:
        logger.warning("launches: %s resumed after their worker stopped", len(ids))
    # A bulk change's launch waits for its events; one untouched this long will get no more.
    for launch in Launch.objects.filter(
        kind=LaunchKind.BULK_EVENT, state__in=OPEN_LAUNCH_STATES, updated_at__lt=now - STALE_AFTER
    ):
        missing = launch.total - launch.done
        launch_finish(
            launch,
            LaunchState.FAILED,
            f"{missing} contacts of the change were not handled: the automation was paused, "
            "or their events were lost.",
        )
    return len(ids)


def launch_refusal(automation: Automation) -> str:
    """Why the automation cannot be launched now ("" when it can)."""
    if automation.state != State.ACTIVE or automation.live_version_id is None:
        return "Activate the automation first: only an active automation can be run."
    return ""
