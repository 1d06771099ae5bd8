"""The API's shape of an endpoint and of an attempt. The secret is in no answer but the
create's and the rotation's."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from tenants.api_schema import EXAMPLE_TIME, example, request_example
from tenants.outbound.models import EVENT_TYPES, DeliveryState, WebhookDelivery, WebhookEndpoint

ENDPOINT_EXAMPLE = {
    "id": "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a14",
    "url": "https://crm.example.com/webhooks/sms-hub",
    "description": "CRM sync",
    "event_types": ["message.status_changed", "contact.opted_out"],
    "enabled": True,
    "disabled_at": None,
    "disabled_reason": "",
    "failing_since": None,
    "created_at": EXAMPLE_TIME,
    "updated_at": EXAMPLE_TIME,
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJ1Y3n2Kp8vQ="  # noqa: S105 - an example


@extend_schema_serializer(examples=[example(ENDPOINT_EXAMPLE)])
class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES))
    enabled = serializers.BooleanField(read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = (
            "id",
            "url",
            "description",
            "event_types",
            "enabled",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


@extend_schema_serializer(
    examples=[example({**ENDPOINT_EXAMPLE, "secret": SECRET_EXAMPLE}, status_codes=[201])]
)
class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (whsec_…), in this answer only: keep it in your receiver.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")  # type: ignore[assignment]
        read_only_fields = fields  # type: ignore[assignment]


@extend_schema_serializer(
    examples=[
        request_example(
            {
                "url": ENDPOINT_EXAMPLE["url"],
                "description": "CRM sync",
                "event_types": ["message.status_changed", "contact.opted_out"],
            }
        )
    ]
)
class WebhookEndpointInputSerializer(serializers.Serializer[None]):
    url = serializers.CharField(max_length=2000, help_text="A public https:// address.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        max_length=len(EVENT_TYPES),
        help_text="At least one.",
    )
    enabled = serializers.BooleanField(
        required=False, help_text="false disables the endpoint; true enables it again."
    )


@extend_schema_serializer(examples=[example({"secret": SECRET_EXAMPLE})])
class WebhookSecretSerializer(serializers.Serializer[None]):
    secret = serializers.CharField(
        read_only=True,
        help_text="The new signing secret, in this answer only; the old one signs too for 24 h.",
    )


@extend_schema_serializer(
    examples=[
        example(
            {
                "id": "f0e1d2c3-b4a5-4968-8776-655443322115",
                "event_id": "evt_2b9c1f0e6d7a4c3b8e5f1a2d3c4b5a69",
                "event_type": "message.status_changed",
                "attempt": 2,
                "state": "succeeded",
                "status_code": 204,
                "duration_ms": 182,
                "response_body": "",
                "error": "",
                "next_attempt_at": None,
                "attempted_at": EXAMPLE_TIME,
                "created_at": EXAMPLE_TIME,
            },
            status_codes=[200, 202],
        )
    ]
)
class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    """One attempt of one event at the endpoint (a pending one is the next try)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    event_id = serializers.CharField(source="event.webhook_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    state = serializers.ChoiceField(choices=DeliveryState.choices, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "event_id",
            "event_type",
            "attempt",
            "state",
            "status_code",
            "duration_ms",
            "response_body",
            "error",
            "next_attempt_at",
            "attempted_at",
            "created_at",
        )
        read_only_fields = fields
