from __future__ import annotations

import datetime
import uuid

from django.db import models
from django.utils import timezone

from connections.models import Connection
from contacts.models import Contact
from templates_sms.models import SmsTemplate
from templates_sms.segments import MAX_TEXT
from tenants.models import Organization
from tenants.sources import Source


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


class Status(models.TextChoices):
    """A message's statuses (docs/architecture.md): ``pending`` and ``submitting`` are ours,
    the rest Twilio's."""

    PENDING = "pending", "Pending"
    SUBMITTING = "submitting", "Submitting"
    ACCEPTED = "accepted", "Accepted"
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    READ = "read", "Read"
    SUPPRESSED = "suppressed", "Suppressed"
    RECEIVED = "received", "Received"


# Statuses only move forward: a later rank never goes back to an earlier one.
RANK = {
    Status.PENDING: 0,
    Status.SUBMITTING: 1,
    Status.ACCEPTED: 2,
    Status.SCHEDULED: 2,
    Status.QUEUED: 3,
    Status.SENDING: 4,
    Status.SENT: 5,
    Status.DELIVERED: 6,
    Status.UNDELIVERED: 6,
    Status.FAILED: 6,
    Status.CANCELED: 6,
    Status.READ: 7,
}
# How long a message's page keeps asking for its news (the sweeper settles older ones).
IN_FLIGHT_FOR = datetime.timedelta(days=1)
FINAL = {Status.DELIVERED, Status.UNDELIVERED, Status.FAILED, Status.CANCELED, Status.READ}


class SuppressedReason(models.TextChoices):
    OPTED_OUT = "opted_out", "The number opted out"
    INVALID_NUMBER = "invalid_number", "Twilio rejected this number before"
    NO_CONNECTION = "no_connection", "No working Twilio connection"
    DUPLICATE = "duplicate", "Already sent once (same dedupe key)"
    FREQUENCY_CAP = "frequency_cap", "Frequency cap reached"
    TOO_LONG = "too_long", f"Longer than {MAX_TEXT:,} characters"


class Message(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Indexed by the (organization, …) indexes below; a second index would only slow writes.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    direction = models.CharField(
        max_length=8, choices=Direction.choices, default=Direction.OUTBOUND
    )
    # contact and template: indexed by (contact, -created_at) and (template, -created_at).
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    template = models.ForeignKey(
        SmsTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    to = models.CharField(max_length=20)
    from_number = models.CharField(max_length=20, blank=True)
    messaging_service_sid = models.CharField(max_length=34, blank=True)
    body = models.TextField()
    media_url = models.URLField(max_length=500, blank=True)
    segments = models.PositiveSmallIntegerField(default=0)
    encoding = models.CharField(max_length=8, default="GSM-7")
    sid = models.CharField(max_length=34, null=True, blank=True, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    suppressed_reason = models.CharField(
        max_length=16, choices=SuppressedReason.choices, blank=True
    )
    needs_attention = models.BooleanField(default=False)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=32, choices=Source.choices, default=Source.API)
    source_ref = models.CharField(max_length=100, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True)
    send_after = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        # The message log's filters each have an index that also gives its order (newest
        # first), so a page never sorts; the sweeper and beat use message_due.
        indexes = [
            models.Index(fields=("organization", "-created_at"), name="message_org_created"),
            models.Index(
                fields=("organization", "status", "-created_at"), name="message_org_status"
            ),
            models.Index(
                fields=("organization", "direction", "-created_at"), name="message_org_direction"
            ),
            models.Index(fields=("contact", "-created_at"), name="message_contact_created"),
            models.Index(fields=("template", "-created_at"), name="message_template_created"),
            models.Index(
                fields=("organization", "-created_at"),
                condition=models.Q(needs_attention=True),
                name="message_attention",
            ),
            models.Index(fields=("organization", "to", "submitted_at"), name="message_org_to"),
            models.Index(fields=("status", "send_after"), name="message_due"),
            models.Index(fields=("organization", "source", "source_ref"), name="message_source"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.to} ({self.status})"

    def __repr__(self) -> str:
        return f"<Message {self.public_id} {self.status}>"

    @property
    def in_flight(self) -> bool:
        """Whether its status may move any moment (pages showing it keep themselves live):
        outbound, due, not final, not suppressed, not waiting for a person's decision, and
        less than a day old (later, the sweeper fetches its final status)."""
        now = timezone.now()
        return (
            self.direction == Direction.OUTBOUND
            and self.status not in FINAL
            and self.status != Status.SUPPRESSED
            and not self.needs_attention
            and (self.send_after is None or self.send_after <= now)
            and self.created_at > now - IN_FLIGHT_FOR
        )


class MessageEvent(models.Model):
    """Each step of a message: ours (created, enqueued, submitted, retry…) and Twilio's."""

    # Indexed by callback_event_once, which starts with it.
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    status = models.CharField(max_length=32)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # For Twilio's callbacks: SID, status and error code, so a repeated callback is one event.
    # NULL for our own events, which may repeat; only callbacks are unique.
    callback_key = models.CharField(max_length=80, null=True, blank=True)  # noqa: DJ001
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("at", "pk")
        constraints = [
            models.UniqueConstraint(fields=("message", "callback_key"), name="callback_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.status} at {self.at:%Y-%m-%d %H:%M:%S}"


class DedupeKey(models.Model):
    """A caller's "once per contact" key, used up only by a message handed to Twilio."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    message = models.ForeignKey(Message, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("organization", "key"), name="dedupe_key_once")
        ]

    def __str__(self) -> str:
        return self.key


# The rollup's key, in the order its triggers write it (messaging/rollup_sql.py).
ROLLUP_KEY = (
    "organization",
    "hour",
    "direction",
    "automation",
    "template_id",
    "status",
    "error_code",
    "suppressed_reason",
    "handed",
    "shard",
)


class MessageRollup(models.Model):
    """Messages counted by the hour they were created (UTC) and what they are now, kept by
    database triggers on the message table in the transaction of every change
    (``messaging/rollup_sql.py``): the dashboard reads these instead of the messages.

    "None" is 0 or "" (``template_id``, ``error_code``, ``automation``, ``suppressed_reason``),
    so that one unique key holds on every database. ``shard`` (the message's id modulo 4)
    spreads concurrent writers of one hour's row over four; readers sum over it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hour = models.DateTimeField()
    direction = models.CharField(max_length=8)
    automation = models.CharField(max_length=100)  # the automation's public id, or ""
    template_id = models.BigIntegerField()  # no foreign key: a deleted template's rows move
    status = models.CharField(max_length=16)
    error_code = models.PositiveIntegerField()
    suppressed_reason = models.CharField(max_length=16)
    handed = models.BooleanField()  # Twilio took it: it has a SID
    shard = models.PositiveSmallIntegerField()
    messages = models.BigIntegerField()
    segments = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=ROLLUP_KEY,
                name="message_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.status}: {self.messages}"
