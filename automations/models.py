"""Automations, their published versions, enrolments and the step ledger.

An automation's ``draft`` is what the builder edits; **Publish** freezes it into an
``AutomationVersion`` whose definition never changes. An enrolment (``AutomationRun``)
belongs to the version it entered and finishes on it, whatever is published later. Every
step an enrolment goes through is one ``RunStep`` row, unique on (run, step): what makes a
step run at most once (docs/architecture.md, "Automations").

A definition (draft or version) is a dict, validated by ``automations.definition``::

    {"trigger": {"type": "tag_added", "tag": "new-lead"},
     "entry_rules": {...}, "exit_rules": {...}, "reentry": {"policy": "once"},
     "steps": [{"id": "s1", "type": "send_sms", "template": "<template id>"}, ...]}
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from contacts.models import Contact
from messaging.models import Message
from templates_sms.models import SmsTemplate
from tenants.models import Organization
from tenants.sources import Source


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class Automation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="automations"
    )
    name = models.CharField(max_length=120)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    draft = models.JSONField(default=dict)
    # The version new enrolments enter; its trigger type is copied here so that an event finds
    # the automations it fires with one indexed query.
    live_version = models.ForeignKey(
        "AutomationVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trigger_type = models.CharField(max_length=32, blank=True)
    # The incoming_webhook trigger's secret, the last part of its URL (rotated by a marketer);
    # kept here, not in the versions, so that rotating it needs no publish.
    webhook_secret = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-updated_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "name"), name="automation_name_unique_per_organization"
            )
        ]
        indexes = [
            models.Index(
                fields=("organization", "state", "trigger_type"), name="automation_trigger"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Automation {self.public_id} {self.state}>"


class AutomationVersion(models.Model):
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)
    # The templates the steps send: a template any version uses cannot be deleted.
    templates: models.ManyToManyField[SmsTemplate, VersionTemplate] = models.ManyToManyField(
        SmsTemplate, through="VersionTemplate", related_name="+"
    )

    class Meta:
        ordering = ("-number",)
        constraints = [
            models.UniqueConstraint(fields=("automation", "number"), name="version_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.automation} v{self.number}"

    def step(self, step_id: str) -> dict[str, Any] | None:
        return next((s for s in self.definition["steps"] if s["id"] == step_id), None)


class VersionTemplate(models.Model):
    version = models.ForeignKey(AutomationVersion, on_delete=models.CASCADE)
    template = models.ForeignKey(SmsTemplate, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("version", "template"), name="version_template_once")
        ]

    def __str__(self) -> str:
        # What the templates room shows when a deletion is refused (it cannot import us).
        return f"the automation “{self.version.automation.name}”"


class FunnelCount(models.Model):
    """A version's funnel as last counted (the step ledger grouped, ``automations.funnels``),
    kept for versions with too many enrolments to count while a page waits; recounted in
    the background when a page finds it more than a minute old."""

    version = models.OneToOneField(
        AutomationVersion, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    rows = models.JSONField()  # the grouped ledger rows, as ``funnels.funnel.ledger_rows``
    counted_at = models.DateTimeField()
    recount_asked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"funnel of version {self.version_id} counted at {self.counted_at:%Y-%m-%d %H:%M}"


class RunState(models.TextChoices):
    WAITING = "waiting", "Waiting"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    EXITED = "exited", "Exited"
    SKIPPED = "skipped", "Skipped"


ACTIVE_RUN_STATES = (RunState.WAITING, RunState.RUNNING)


class Reason(models.TextChoices):
    """Why an enrolment was skipped or exited: words shown on pages and answered by the API."""

    ENTRY_RULES = "entry_rules", "Does not match the entry rules"
    REENTRY = "reentry", "Already enrolled (re-entry policy)"
    OPTED_OUT = "opted_out", "Opted out"
    REPLIED = "replied", "Replied"
    TAG_ADDED = "tag_added", "Gained an exit tag"
    TRIGGER_TAG_REMOVED = "trigger_tag_removed", "Lost the trigger's tag"
    ARCHIVED = "archived", "The automation was archived"
    ENDED = "ended", "A branch ended the flow"
    SEND_FAILED = "send_failed", "The message could not be created"


class AutomationRun(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(AutomationVersion, on_delete=models.PROTECT, related_name="runs")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    # "once" for an enrolment under the once policy, so that the unique constraint below
    # refuses a second; the event's own key otherwise (and for every skip).
    occurrence_key = models.CharField(max_length=80)
    event_key = models.CharField(max_length=80, blank=True)  # the event that enrolled or skipped
    state = models.CharField(max_length=16, choices=RunState.choices)
    step_id = models.CharField(max_length=32, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=32, blank=True)
    variant_seed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("automation", "contact", "occurrence_key"), name="run_occurrence_once"
            )
        ]
        indexes = [
            models.Index(
                fields=("due_at",),
                condition=models.Q(state__in=("waiting", "running")),
                name="run_due",
            ),
            models.Index(fields=("automation", "-created_at"), name="run_automation_created"),
            models.Index(fields=("contact", "-created_at"), name="run_contact_created"),
        ]

    def __str__(self) -> str:
        return f"{self.automation} for contact {self.contact_id} ({self.state})"


class Outcome(models.TextChoices):
    SENT = "sent", "Sent"
    SUPPRESSED = "suppressed", "Suppressed"
    WAITED = "waited", "Waited"
    BRANCHED = "branched", "Branched"
    EXITED = "exited", "Exited"


class RunStep(models.Model):
    """The step ledger: one row per step an enrolment went through."""

    run = models.ForeignKey(AutomationRun, on_delete=models.CASCADE, related_name="steps")
    step_id = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    variant = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("run", "at", "pk")
        constraints = [models.UniqueConstraint(fields=("run", "step_id"), name="run_step_once")]

    def __str__(self) -> str:
        return f"run {self.run_id} step {self.step_id}: {self.outcome}"


class LaunchKind(models.TextChoices):
    MANUAL = "manual", "Run now"
    BACKFILL = "backfill", "Backfill"
    BULK_EVENT = "bulk_event", "Bulk change"


class LaunchState(models.TextChoices):
    PREPARING = "preparing", "Preparing"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


OPEN_LAUNCH_STATES = (LaunchState.PREPARING, LaunchState.RUNNING)


class Launch(models.Model):
    """An automation fired for many contacts at once: a manual run to an audience, a backfill
    on activation, or a bulk change (a bulk tag, an import) whose events fire a trigger.

    Worked in chunks of 1,000 contacts, each chunk its own transaction, which enrols its
    contacts and moves ``cursor`` and the counts on together: a worker killed mid-launch
    resumes at the chunk it was doing, and a chunk done twice enrols nobody twice (its
    enrolments carry ``event_key``).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="launches")
    kind = models.CharField(max_length=16, choices=LaunchKind.choices)
    # Where it was started (ui, api, import, system): the source its enrolments carry.
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SYSTEM)
    state = models.CharField(
        max_length=16, choices=LaunchState.choices, default=LaunchState.PREPARING
    )
    # Who: {"all": true} or rules as the entry rules' ({"has_all_tags": [...], ...}); for a bulk
    # change, the event that fired it ({"event": "tag_added", "tag": "vip"}).
    audience = models.JSONField(default=dict)
    # The key the launch's enrolments carry (``AutomationRun.event_key``).
    event_key = models.CharField(max_length=80)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # The last contact id a manual launch or backfill has done (the audience is worked in id
    # order).
    cursor = models.BigIntegerField(default=0)
    # The preflight's figures, as the confirmation showed them.
    preflight = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=("automation", "event_key"), name="launch_event_once")
        ]
        indexes = [
            models.Index(fields=("automation", "-created_at"), name="launch_automation_created"),
            models.Index(
                fields=("updated_at",),
                condition=models.Q(state__in=("preparing", "running")),
                name="launch_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.automation} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_LAUNCH_STATES

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0


class DateSchedule(models.Model):
    """When a ``date_field`` automation next fires for a contact: one row per (automation,
    contact) whose date gives an occurrence to come, so the beat's pass reads the rows due
    (an index range) instead of every contact's date every minute. Rebuilt for an automation
    when it is activated or published, and for a contact when its date or time zone changes.
    """

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField()
    # The occurrence's local date (YYYY-MM-DD): the enrolment's occurrence key.
    occurrence = models.CharField(max_length=10)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("automation", "contact"), name="date_schedule_once")
        ]
        indexes = [models.Index(fields=("due_at",), name="date_schedule_due")]

    def __str__(self) -> str:
        return f"{self.automation} for contact {self.contact_id} at {self.due_at}"


class HeldEvent(models.Model):
    """An event whose ``handle_event`` task the broker refused (Redis down when the change that
    caused it committed): kept here, in the database that already holds the change, and
    handed to the broker again by the beat's pass once it answers, so the automation still
    fires once. The event's own key makes a replay that reaches the broker twice enrol once.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    event = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=("created_at",), name="held_event_created")]

    def __str__(self) -> str:
        return f"held {self.event.get('type')} event of organization {self.organization_id}"
