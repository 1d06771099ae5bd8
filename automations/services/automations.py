"""An automation's life: create, edit the draft, publish, activate, pause, archive."""

from __future__ import annotations

import copy
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from automations.definition import Definition, definition_clean, empty_definition, template_ids
from automations.models import (
    ACTIVE_RUN_STATES,
    OPEN_LAUNCH_STATES,
    Automation,
    AutomationVersion,
    LaunchState,
    Reason,
    RunState,
    State,
    VersionTemplate,
)
from connections.selectors import sending_connection
from templates_sms.models import SmsTemplate
from tenants.audit.models import Action, TargetType
from tenants.audit.services import Target, audit_record
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Organization, User

logger = logging.getLogger(__name__)

MAX_NAME = 120
WEBHOOK = "incoming_webhook"


def _name_clean(name: object) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise ApplicationError.for_field("name", "Give the automation a name.")
    if len(cleaned) > MAX_NAME:
        raise ApplicationError.for_field("name", f"A name has at most {MAX_NAME} characters.")
    return cleaned


def _name_taken(name: str) -> ConflictError:
    message = f"An automation named “{name}” already exists."
    return ConflictError(message, code="duplicate_name", fields={"name": [message]})


def _webhook_secret_for(draft: Mapping[str, Any]) -> str:
    """A new secret for a draft with the incoming_webhook trigger, else "". Drawn once, when
    an automation first gets the trigger: it stays while the trigger changes and back (the
    URL keeps working), and only ``webhook_secret_rotate`` changes it."""
    if (draft.get("trigger") or {}).get("type") != WEBHOOK:
        return ""
    return secrets.token_urlsafe(32)


def _save(automation: Automation, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            automation.save(update_fields=fields)
    except IntegrityError as error:
        raise _name_taken(automation.name) from error


@transaction.atomic
def automation_create(
    *,
    organization: Organization,
    name: str,
    definition: Mapping[str, Any] | None = None,
    complete: bool = False,
    by: User | None = None,
) -> Automation:
    """A new automation in ``draft`` with its draft definition (checked; ``complete`` when
    the caller means to publish it)."""
    name = _name_clean(name)
    draft = (
        definition_clean(organization, definition, complete=complete)
        if definition is not None
        else empty_definition()
    )
    automation = Automation(
        organization=organization,
        name=name,
        draft=draft,
        webhook_secret=_webhook_secret_for(draft),
        created_by=by,
        updated_by=by,
    )
    try:
        with transaction.atomic():
            automation.save()
    except IntegrityError as error:
        raise _name_taken(name) from error
    return automation


def automation_update(
    *,
    automation: Automation,
    name: str | None = None,
    definition: Mapping[str, Any] | None = None,
    complete: bool = False,
    by: User | None = None,
) -> Automation:
    """Saves a new name and/or draft. What running enrolments do never changes: only Publish
    makes the draft the version new enrolments enter."""
    if automation.state == State.ARCHIVED:
        raise ConflictError("An archived automation cannot be edited: duplicate it instead.")
    fields = ["updated_by", "updated_at"]
    if name is not None:
        automation.name = _name_clean(name)
        fields.append("name")
    if definition is not None:
        automation.draft = definition_clean(automation.organization, definition, complete=complete)
        fields.append("draft")
        if not automation.webhook_secret and (secret := _webhook_secret_for(automation.draft)):
            automation.webhook_secret = secret
            fields.append("webhook_secret")
    automation.updated_by = by
    _save(automation, fields)
    return automation


def _audit(
    automation: Automation, action: Action, by: User | None, changes: dict[str, Any]
) -> None:
    audit_record(
        organization=automation.organization,
        action=action,
        target=Target.of(TargetType.AUTOMATION, automation, automation.name),
        changes=changes,
        actor=by,
    )


def has_unpublished_changes(automation: Automation) -> bool:
    live = automation.live_version
    return live is None or live.definition != automation.draft


@transaction.atomic
def automation_publish(*, automation: Automation, by: User | None = None) -> AutomationVersion:
    """Freezes the draft into the next version, which new enrolments enter from now on."""
    if automation.state == State.ARCHIVED:
        raise ConflictError("An archived automation cannot be published.")
    definition: Definition = definition_clean(
        automation.organization, automation.draft, complete=True
    )
    if automation.live_version is not None and automation.live_version.definition == definition:
        return automation.live_version
    was = automation.trigger_type
    previous = automation.live_version.number if automation.live_version else None
    number = (automation.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = AutomationVersion.objects.create(
        automation=automation, number=number, definition=definition, published_by=by
    )
    ids = template_ids(definition)
    templates = SmsTemplate.objects.filter(organization=automation.organization, public_id__in=ids)
    VersionTemplate.objects.bulk_create(
        [VersionTemplate(version=version, template=t) for t in templates]
    )
    automation.draft = definition
    automation.live_version = version
    automation.trigger_type = definition["trigger"]["type"]
    automation.updated_by = by
    automation.save(
        update_fields=["draft", "live_version", "trigger_type", "updated_by", "updated_at"]
    )
    if automation.state == State.ACTIVE:
        _date_schedule_sync(automation, was=was)
    _audit(
        automation,
        Action.AUTOMATION_PUBLISHED,
        by,
        {"version": {"before": previous, "after": number}},
    )
    return version


def activation_refusal(automation: Automation) -> str:
    """Why the automation cannot be activated now, or ""."""
    if automation.state == State.ARCHIVED:
        return "An archived automation cannot be activated: duplicate it instead."
    if sending_connection(automation.organization) is None:
        return (
            "Connect a working Twilio account in the Connection Center first: without it, "
            "no Twilio SMS step can send."
        )
    return ""


@transaction.atomic
def automation_activate(*, automation: Automation, by: User | None = None) -> Automation:
    """Starts enrolling (publishing the draft first if it was never published). Resuming a
    paused automation continues its waiting enrolments."""
    refusal = activation_refusal(automation)
    if refusal:
        raise ConflictError(refusal, code="cannot_activate")
    if automation.live_version is None:
        automation_publish(automation=automation, by=by)
    was = automation.state
    automation.state = State.ACTIVE
    automation.updated_by = by
    automation.save(update_fields=["state", "updated_by", "updated_at"])
    _date_schedule_sync(automation)
    if was != State.ACTIVE:
        _audit(
            automation,
            Action.AUTOMATION_ACTIVATED,
            by,
            {"state": {"before": was, "after": State.ACTIVE}},
        )
    return automation


@transaction.atomic
def automation_pause(*, automation: Automation, by: User | None = None) -> Automation:
    """Stops enrolling and sending; waiting enrolments stay where they are."""
    if automation.state != State.ACTIVE:
        raise ConflictError("Only an active automation can be paused.")
    automation.state = State.PAUSED
    automation.updated_by = by
    automation.save(update_fields=["state", "updated_by", "updated_at"])
    _date_schedule_sync(automation)
    changes = {"state": {"before": State.ACTIVE, "after": State.PAUSED}}
    _audit(automation, Action.AUTOMATION_PAUSED, by, changes)
    return automation


@transaction.atomic
def automation_archive(*, automation: Automation, by: User | None = None) -> int:
    """Stops it for good: its enrolments still under way end (reason ``archived``), and so do
    its open launches (cancelled before their next chunk). Returns how many enrolments ended."""
    automation.state = State.ARCHIVED
    automation.updated_by = by
    automation.save(update_fields=["state", "updated_by", "updated_at"])
    _date_schedule_sync(automation)
    now = timezone.now()
    automation.launches.filter(state__in=OPEN_LAUNCH_STATES).update(
        state=LaunchState.CANCELLED,
        error="The automation was archived.",
        finished_at=now,
        updated_at=now,
    )
    return automation.runs.filter(state__in=ACTIVE_RUN_STATES).update(
        state=RunState.EXITED, reason=Reason.ARCHIVED, due_at=None, ended_at=now, updated_at=now
    )


def automation_discard_draft(*, automation: Automation, by: User | None = None) -> Automation:
    """Back to the live version's definition."""
    if automation.live_version is None:
        raise ConflictError("Nothing is published yet: there is no live version to return to.")
    automation.draft = copy.deepcopy(automation.live_version.definition)
    automation.updated_by = by
    automation.save(update_fields=["draft", "updated_by", "updated_at"])
    return automation


def webhook_secret_rotate(*, automation: Automation, by: User | None = None) -> Automation:
    """A new secret for the incoming webhook's URL: the old URL stops working at once."""
    if automation.state == State.ARCHIVED:
        raise ConflictError("An archived automation cannot be changed: duplicate it instead.")
    if WEBHOOK not in (
        (automation.draft.get("trigger") or {}).get("type"),
        automation.trigger_type,
    ):
        raise ConflictError("Only an automation with the incoming webhook trigger has a URL.")
    automation.webhook_secret = secrets.token_urlsafe(32)
    automation.updated_by = by
    automation.save(update_fields=["webhook_secret", "updated_by", "updated_at"])
    # The automation's id only: a secret never reaches a log line.
    logger.info("webhook secret rotated: automation %s by %s", automation.public_id, by)
    return automation


def automation_duplicate(*, automation: Automation, by: User | None = None) -> Automation:
    """A new draft with the same definition, named "… (copy)" (or "(copy 2)", …)."""
    organization = automation.organization
    taken = set(
        Automation.objects.filter(
            organization=organization, name__startswith=automation.name[: MAX_NAME - 12]
        ).values_list("name", flat=True)
    )
    base = automation.name[: MAX_NAME - 12]
    name = f"{base} (copy)"
    n = 2
    while name in taken:
        name = f"{base} (copy {n})"
        n += 1
    return Automation.objects.create(
        organization=organization,
        name=name,
        draft=copy.deepcopy(automation.draft),
        # A URL of its own: a post to the original's never enrols into the copy.
        webhook_secret=_webhook_secret_for(automation.draft),
        created_by=by,
        updated_by=by,
    )


def _date_schedule_sync(automation: Automation, *, was: str = "") -> None:
    """A date trigger's schedule follows its automation (``services/dates.py``): rebuilt for
    every contact when it is activated or publishes, dropped when it is paused, archived or
    given another trigger (``was``: the trigger type before a publish). Done by a task after
    the commit: no request holds a whole organization's contacts."""
    if "date_field" not in (automation.trigger_type, was):
        return
    from automations.tasks import sync_date_schedule  # the tasks import the services

    automation_id = automation.pk
    transaction.on_commit(lambda: sync_date_schedule.delay(automation_id))
