"""Endpoints, the outbox of events, and each delivery attempt.

``WebhookDelivery`` is one attempt of one event at one endpoint; the row in state
``pending`` is the queue (due at ``next_attempt_at``). A failed attempt stays as the log of
what happened (``failed``), and the next try is a new row with the next ``attempt`` number,
until one succeeds or 24 hours have passed since ``started_at`` (``given_up``).
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from tenants.crypto import EncryptedTextField, Secret, decrypt
from tenants.models import Organization


class EventType(models.TextChoices):
    """What an endpoint may subscribe to (``TEST`` is sent by Send test event only)."""

    MESSAGE_STATUS_CHANGED = "message.status_changed", "A message's status changed"
    MESSAGE_RECEIVED = "message.received", "A message was received"
    CONTACT_CREATED = "contact.created", "A contact was created"
    CONTACT_OPTED_OUT = "contact.opted_out", "A number opted out"
    CONTACT_OPTED_IN = "contact.opted_in", "A number opted back in"
    AUTOMATION_RUN_COMPLETED = "automation.run_completed", "An enrolment completed its automation"
    LAUNCH_COMPLETED = "launch.completed", "A launch completed"
    IMPORT_COMPLETED = "import.completed", "A CSV import completed"


TEST_EVENT = "webhook.test"
EVENT_TYPES = [str(t) for t in EventType]


class WebhookEndpoint(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # Standard Webhooks' whsec_… (base64 of 32 random bytes), encrypted; the one before a
    # rotation keeps signing too (a second signature) until previous_secret_expires_at.
    secret_encrypted = EncryptedTextField()
    previous_secret_encrypted = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The first failed attempt since the last success; three days of it disables the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("created_at", "pk")
        indexes = [models.Index(fields=("organization", "created_at"), name="webhook_endpoint_org")]

    def __str__(self) -> str:
        return self.url

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    @property
    def previous_secret_until(self) -> datetime.datetime | None:
        """Until when the secret before the last rotation signs too (None: it does not)."""
        expires = self.previous_secret_expires_at
        if self.previous_secret_encrypted and expires is not None and expires > timezone.now():
            return expires
        return None

    def secrets(self, now: datetime.datetime | None = None) -> list[Secret]:
        """The secrets to sign with: the current one, and the one before a rotation for a
        day after it."""
        found = [decrypt(self.secret_encrypted)]
        at = now or timezone.now()
        expires = self.previous_secret_expires_at
        if self.previous_secret_encrypted and expires is not None and expires > at:
            found.append(decrypt(self.previous_secret_encrypted))
        return found


class WebhookEvent(models.Model):
    """The outbox: written in the transaction of the change it announces."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_events"
    )
    type = models.CharField(max_length=64)
    # {"id", "type", "timestamp", "data"}: the body posted, data as the API shows it.
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=("created_at",), name="webhook_event_age")]

    def __str__(self) -> str:
        return self.webhook_id

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` header and the payload's ``id``: the same on every attempt."""
        return webhook_id(self.public_id)


def webhook_id(public_id: uuid.UUID) -> str:
    return f"evt_{public_id.hex}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed, retried"
    GIVEN_UP = "given_up", "Given up"


class WebhookDelivery(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    # When this event's first attempt at this endpoint was due (a replay starts again).
    started_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)  # the first 1 KB of the answer
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=("state", "next_attempt_at"), name="webhook_delivery_due"),
            models.Index(fields=("endpoint", "-created_at"), name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} #{self.attempt}"
