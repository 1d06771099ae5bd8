from __future__ import annotations

import secrets
import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from connections.crypto import EncryptedTextField, Secret, decrypt
from tenants.models import Organization


def new_inbound_key() -> str:
    return secrets.token_urlsafe(24)


class ConnectionKind(models.TextChoices):
    TWILIO = "twilio", "Twilio SMS"


class ConnectionState(models.TextChoices):
    CONNECTED = "connected", "Connected"
    FAILING = "failing", "Failing"
    DISCONNECTED = "disconnected", "Disconnected"


class Connection(models.Model):
    """An organization's link to one outside provider; one per kind.

    Each kind keeps its credentials in a model of its own (``TwilioCredentials`` for Twilio).
    A disconnected connection keeps its row for history, without credentials.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="connections"
    )
    kind = models.CharField(max_length=32, choices=ConnectionKind.choices)
    state = models.CharField(
        max_length=16, choices=ConnectionState.choices, default=ConnectionState.CONNECTED
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # The secret part of the inbound webhook URL; rotating it changes the URL.
    inbound_key = models.CharField(max_length=64, unique=True, default=new_inbound_key)
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    last_webhook_signature_valid = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("organization", "kind"), name="one_connection_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.organization} ({self.state})"

    def __repr__(self) -> str:
        return f"<Connection {self.kind} {self.state} org={self.organization_id}>"

    @property
    def can_send(self) -> bool:
        """A failing connection still sends (the cause may be passing); a disconnected one not."""
        return self.state != ConnectionState.DISCONNECTED


class SenderType(models.TextChoices):
    LOCAL = "local", "Local number"
    TOLL_FREE = "toll_free", "Toll-free number"
    SHORT_CODE = "short_code", "Short code"
    MESSAGING_SERVICE = "messaging_service", "Messaging Service"


# Segments per second Twilio accepts by default for each kind of sender; admins can change it
# when their account has more (a 10DLC campaign's throughput, say).
DEFAULT_SEND_RATES = {
    SenderType.LOCAL: Decimal(1),
    SenderType.TOLL_FREE: Decimal(3),
    SenderType.SHORT_CODE: Decimal(100),
    SenderType.MESSAGING_SERVICE: Decimal(10),
}


class ComplianceState(models.TextChoices):
    """What carriers require of this sender before they deliver its texts."""

    NOT_REQUIRED = "not_required", "Not required"
    REGISTERED = "registered", "Registered"
    UNREGISTERED = "unregistered", "Not registered"
    PENDING = "pending", "Pending review"
    REJECTED = "rejected", "Rejected"
    UNKNOWN = "unknown", "Unknown"


class TwilioCredentials(models.Model):
    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="twilio")
    account_sid = models.CharField(max_length=34)
    auth_token_encrypted = EncryptedTextField()
    auth_token_last4 = models.CharField(max_length=4)
    account_type = models.CharField(max_length=16, blank=True, help_text="Trial or Full")
    account_name = models.CharField(max_length=200, blank=True)
    # The sender: a number (E.164, or the digits of a short code) or a Messaging Service.
    phone_number = models.CharField(max_length=20, blank=True)
    phone_number_sid = models.CharField(max_length=34, blank=True)
    messaging_service_sid = models.CharField(max_length=34, blank=True)
    sender_type = models.CharField(max_length=20, choices=SenderType.choices)
    sender_country = models.CharField(max_length=2, blank=True)
    sms_capable = models.BooleanField(default=True)
    compliance_state = models.CharField(
        max_length=16, choices=ComplianceState.choices, default=ComplianceState.UNKNOWN
    )
    compliance_detail = models.CharField(max_length=300, blank=True)
    send_rate = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal(1000))],
        help_text="Message segments per second sent through this sender.",
    )

    class Meta:
        verbose_name_plural = "Twilio credentials"

    def __str__(self) -> str:
        return f"Twilio {self.account_sid} → {self.sender_label}"

    def __repr__(self) -> str:
        return f"<TwilioCredentials {self.account_sid} token=…{self.auth_token_last4}>"

    @property
    def sender_label(self) -> str:
        return self.messaging_service_sid or self.phone_number

    def auth_token(self) -> Secret:
        """Decrypts the token, for the Twilio seam's next call and nothing else."""
        return decrypt(self.auth_token_encrypted)


class UsageDay(models.Model):
    """What Twilio billed a connection's account for one usage category on one UTC day, as
    its Usage Records said when last fetched (``connections.services.usage``)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    category = models.CharField(max_length=32)  # Twilio's usage category: sms, mms
    count = models.IntegerField()  # messages
    usage = models.IntegerField()  # what Twilio bills: segments for SMS
    price = models.DecimalField(max_digits=16, decimal_places=6)  # negative for a credit
    price_unit = models.CharField(max_length=8, blank=True)  # ISO 4217, upper-cased: USD
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("connection", "day", "category"), name="one_usage_day_per_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} on {self.day}: {self.price} {self.price_unit}"
