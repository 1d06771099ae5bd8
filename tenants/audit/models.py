"""The audit log: who did what to an organization's setup, when, and from where.

Append-only for the application: a row is written once, in the transaction of the change it
records, and never edited. ``AuditEvent.save()`` refuses an existing row, ``delete()`` refuses
always, and the QuerySet refuses ``update()`` and ``delete()``; only the retention service
(rows past ``RETENTION``) and an organization's purge remove rows, through ``_purge``. On
PostgreSQL a trigger (migration 0002) refuses the same in SQL.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from tenants.models import ApiKey, Organization

RETENTION = datetime.timedelta(days=730)
OPERATOR_LABEL = "operator (command line)"


class AppendOnly(Exception):
    """An attempt to change or delete an audit event."""


class Action(models.TextChoices):
    CONNECTION_CONNECTED = "connection.connected", "Connected Twilio"
    CONNECTION_CHANGED = "connection.changed", "Changed the Twilio connection"
    CONNECTION_REVERIFIED = "connection.reverified", "Re-verified the Twilio connection"
    CONNECTION_DISCONNECTED = "connection.disconnected", "Disconnected Twilio"
    CONNECTION_INBOUND_KEY_ROTATED = (
        "connection.inbound_key_rotated",
        "Rotated the inbound webhook URL",
    )
    ENCRYPTION_KEYS_ROTATED = "encryption.keys_rotated", "Re-encrypted the stored secrets"
    TWO_FACTOR_REQUIREMENT_CHANGED = (
        "organization.two_factor_required",
        "Changed whether two-factor sign-in is required",
    )
    MEMBER_INVITED = "member.invited", "Invited a member"
    MEMBER_JOINED = "member.joined", "Joined"
    INVITATION_REVOKED = "invitation.revoked", "Revoked an invitation"
    MEMBER_ROLE_CHANGED = "member.role_changed", "Changed a member's role"
    MEMBER_REMOVED = "member.removed", "Removed a member"
    API_KEY_CREATED = "api_key.created", "Created an API key"
    API_KEY_REVOKED = "api_key.revoked", "Revoked an API key"
    CONTACT_OPTED_OUT = "contact.opted_out", "Opted a contact out"
    CONTACT_OPTED_IN = "contact.opted_in", "Opted a contact back in"
    AUTOMATION_PUBLISHED = "automation.published", "Published an automation"
    AUTOMATION_ACTIVATED = "automation.activated", "Activated an automation"
    AUTOMATION_PAUSED = "automation.paused", "Paused an automation"
    LAUNCH_STARTED = "launch.started", "Started a launch"
    LAUNCH_CANCELLED = "launch.cancelled", "Cancelled a launch"
    IMPORT_STARTED = "import.started", "Started a contacts import"
    IMPORT_CANCELLED = "import.cancelled", "Cancelled a contacts import"
    WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created", "Added a webhook endpoint"
    WEBHOOK_ENDPOINT_CHANGED = "webhook_endpoint.changed", "Changed a webhook endpoint"
    WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted", "Deleted a webhook endpoint"


class ActorType(models.TextChoices):
    USER = "user", "Member"
    API_KEY = "api_key", "API key"
    OPERATOR = "operator", "Operator"


class TargetType(models.TextChoices):
    CONNECTION = "connection", "Connection"
    ORGANIZATION = "organization", "Organization"
    MEMBER = "member", "Member"
    INVITATION = "invitation", "Invitation"
    API_KEY = "api_key", "API key"
    CONTACT = "contact", "Contact"
    NUMBER = "number", "Phone number"
    AUTOMATION = "automation", "Automation"
    LAUNCH = "launch", "Launch"
    IMPORT = "import", "Contacts import"
    WEBHOOK_ENDPOINT = "webhook_endpoint", "Webhook endpoint"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        # Deleting a user or a key sets its events' actor to NULL (the label stays): that is
        # the only change Django makes to existing rows, and the trigger allows it too.
        nulling = all(value is None for value in kwargs.values())
        if kwargs and set(kwargs) <= {"actor_user", "actor_api_key"} and nulling:
            return super().update(**kwargs)
        raise AppendOnly("Audit events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Audit events are removed only by retention or an organization's purge.")

    def _purge(self) -> int:
        """The one way rows leave (``tenants.audit.services``)."""
        deleted, _ = super().delete()
        return deleted


class AuditEvent(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    at = models.DateTimeField()
    action = models.CharField(max_length=64, choices=Action.choices)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept when the user or key is gone: the e-mail, "API key <name> (smsh_abc…)" or the operator.
    actor_label = models.CharField(max_length=300)
    # The client's address (tenants.client_address); none for commands and tasks.
    address = models.GenericIPAddressField(null=True, blank=True)
    target_type = models.CharField(max_length=40, blank=True, choices=TargetType.choices)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    # {"field": {"before": …, "after": …}} of non-secret fields only.
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-pk")
        indexes = [
            models.Index(fields=("organization", "-at"), name="audit_event_org_at"),
            models.Index(fields=("at",), name="audit_event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Audit events are removed only by retention or an organization's purge.")
