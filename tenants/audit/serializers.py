from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from tenants.api_schema import EXAMPLE_IDS, EXAMPLE_TIME, example
from tenants.audit.models import Action, ActorType, AuditEvent

EVENT_EXAMPLE = {
    "id": "f0e1d2c3-b4a5-4697-8877-665544332215",
    "at": EXAMPLE_TIME,
    "action": "member.role_changed",
    "actor": {"type": "user", "id": EXAMPLE_IDS["user"], "label": "ana@example.com"},
    "address": "203.0.113.7",
    "target": {"type": "member", "id": EXAMPLE_IDS["member"], "label": "sam@example.com"},
    "changes": {"role": {"before": "viewer", "after": "marketer"}},
}


class AuditActorSerializer(serializers.Serializer[None]):
    type = serializers.ChoiceField(choices=ActorType.choices)
    id = serializers.UUIDField(allow_null=True, help_text="The member's or the key's id.")
    # ``label`` is also a Field attribute in the stubs; DRF takes it as a declared field.
    label = serializers.CharField(help_text="The e-mail, the key's name, or the operator.")  # type: ignore[assignment]


class AuditTargetSerializer(serializers.Serializer[None]):
    type = serializers.CharField(help_text="connection, member, api_key, contact, …")
    id = serializers.CharField(help_text="Its id (empty for a number without a contact).")
    label = serializers.CharField()  # type: ignore[assignment]


@extend_schema_serializer(examples=[example(EVENT_EXAMPLE)])
class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    action = serializers.ChoiceField(choices=Action.choices, read_only=True)
    actor = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()
    changes = serializers.JSONField(
        read_only=True,
        help_text='{"field": {"before": …, "after": …}}; a secret that changed shows '
        '"(replaced)", never its value.',
    )

    class Meta:
        model = AuditEvent
        fields = ("id", "at", "action", "actor", "address", "target", "changes")
        read_only_fields = fields

    @extend_schema_field(AuditActorSerializer)
    def get_actor(self, event: AuditEvent) -> dict[str, Any]:
        actor = event.actor_user if event.actor_user_id else event.actor_api_key
        return {
            "type": event.actor_type,
            "id": str(actor.public_id) if actor is not None else None,
            "label": event.actor_label,
        }

    @extend_schema_field(AuditTargetSerializer)
    def get_target(self, event: AuditEvent) -> dict[str, Any]:
        return {"type": event.target_type, "id": event.target_id, "label": event.target_label}
