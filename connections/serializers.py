from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from connections.models import ComplianceState, Connection, ConnectionState, SenderType
from connections.selectors import connection_warnings, twilio_credentials
from connections.services.connections import inbound_webhook_url
from tenants.api_schema import EXAMPLE_IDS, EXAMPLE_TIME, example, request_example

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


@extend_schema_serializer(
    examples=[
        request_example(
            {
                "account_sid": ACCOUNT_SID,
                "auth_token": "fedcba9876543210" * 2,
                "phone_number": "+1 415 555 0100",
            }
        )
    ]
)
class TwilioConnectSerializer(serializers.Serializer[None]):
    account_sid = serializers.CharField(max_length=64)
    auth_token = serializers.CharField(
        max_length=64, required=False, allow_blank=True, write_only=True
    )
    phone_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    messaging_service_sid = serializers.CharField(max_length=64, required=False, allow_blank=True)
    send_rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        required=False,
        min_value=Decimal("0.1"),
        max_value=Decimal(1000),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("phone_number") and not attrs.get("messaging_service_sid"):
            raise serializers.ValidationError(
                {"phone_number": ["Give phone_number or messaging_service_sid."]}
            )
        return attrs


def twilio_connection_data(connection: Connection) -> dict[str, Any]:
    """The API's view of a Twilio connection. The Auth Token is never part of it."""
    credentials = twilio_credentials(connection)
    return {
        "id": str(connection.public_id),
        "state": connection.state,
        "account_sid": credentials.account_sid if credentials else None,
        "phone_number": credentials.phone_number or None if credentials else None,
        "messaging_service_sid": credentials.messaging_service_sid or None if credentials else None,
        "sender_type": credentials.sender_type if credentials else None,
        "sender_country": credentials.sender_country or None if credentials else None,
        "account_type": credentials.account_type or None if credentials else None,
        "compliance_state": credentials.compliance_state if credentials else None,
        "send_rate": float(credentials.send_rate) if credentials else None,
        "warnings": [
            {"code": w.code, "message": w.message} for w in connection_warnings(connection)
        ],
        "inbound_webhook_url": inbound_webhook_url(connection),
        "verified_at": serializers.DateTimeField().to_representation(connection.verified_at)
        if connection.verified_at
        else None,
        "last_error": connection.last_error or None,
        "last_webhook_at": serializers.DateTimeField().to_representation(connection.last_webhook_at)
        if connection.last_webhook_at
        else None,
    }


class WarningSerializer(serializers.Serializer[None]):
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_serializer(
    examples=[
        example(
            {
                "id": EXAMPLE_IDS["connection"],
                "state": "connected",
                "account_sid": ACCOUNT_SID,
                "phone_number": "+14155550100",
                "messaging_service_sid": None,
                "sender_type": "local",
                "sender_country": "US",
                "account_type": "Full",
                "compliance_state": "registered",
                "send_rate": 1.0,
                "warnings": [],
                "inbound_webhook_url": "https://hub.example.com/webhooks/twilio/inbound/k3y…",
                "verified_at": EXAMPLE_TIME,
                "last_error": None,
                "last_webhook_at": None,
            }
        )
    ]
)
class TwilioConnectionSerializer(serializers.Serializer[None]):
    """The schema of ``twilio_connection_data``: the Auth Token is never part of it."""

    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=ConnectionState.choices)
    account_sid = serializers.CharField(allow_null=True)
    phone_number = serializers.CharField(allow_null=True, help_text="E.164, for a number.")
    messaging_service_sid = serializers.CharField(allow_null=True)
    sender_type = serializers.ChoiceField(choices=SenderType.choices, allow_null=True)
    sender_country = serializers.CharField(allow_null=True)
    account_type = serializers.CharField(allow_null=True, help_text="Trial or Full.")
    compliance_state = serializers.ChoiceField(choices=ComplianceState.choices, allow_null=True)
    send_rate = serializers.FloatField(
        allow_null=True, help_text="Segments a second the sender sends at most."
    )
    warnings = WarningSerializer(many=True)
    inbound_webhook_url = serializers.URLField(
        help_text="Where Twilio posts replies (it carries a secret key)."
    )
    verified_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    last_webhook_at = serializers.DateTimeField(allow_null=True)
