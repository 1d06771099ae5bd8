"""The API's shape of an endpoint and of an attempt. The secret is in no answer but the
create's and the rotation's."""

from __future__ import annotations

from rest_framework import serializers

from tenants.outbound.models import EVENT_TYPES, DeliveryState, WebhookDelivery, WebhookEndpoint


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


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (whsec_…), in this answer only: keep it in your receiver.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")  # type: ignore[assignment]
        read_only_fields = fields  # type: ignore[assignment]


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


class WebhookSecretSerializer(serializers.Serializer[None]):
    secret = serializers.CharField(
        read_only=True,
        help_text="The new signing secret, in this answer only; the old one signs too for 24 h.",
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
