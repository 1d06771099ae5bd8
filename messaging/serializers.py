from __future__ import annotations

from typing import Any

from rest_framework import serializers

from messaging.models import Message, MessageEvent
from templates_sms.segments import MAX_TEXT


class MessageEventSerializer(serializers.ModelSerializer[MessageEvent]):
    class Meta:
        model = MessageEvent
        fields = ("status", "error_code", "at", "params")


class MessageSerializer(serializers.ModelSerializer[Message]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    contact = serializers.SerializerMethodField()
    to = serializers.CharField()
    from_ = serializers.CharField(source="from_number")
    messaging_service_sid = serializers.SerializerMethodField()
    sid = serializers.CharField(allow_null=True)

    class Meta:
        model = Message
        fields = (
            "id",
            "direction",
            "contact",
            "to",
            "from_",
            "messaging_service_sid",
            "sid",
            "body",
            "status",
            "suppressed_reason",
            "needs_attention",
            "error_code",
            "error_message",
            "segments",
            "encoding",
            "source",
            "source_ref",
            "send_after",
            "created_at",
            "updated_at",
        )

    def get_contact(self, message: Message) -> str | None:
        return str(message.contact.public_id) if message.contact else None

    def get_messaging_service_sid(self, message: Message) -> str | None:
        return message.messaging_service_sid or None

    def to_representation(self, instance: Message) -> dict[str, Any]:
        # "from" is a Python keyword: the field is from_, answered as "from", in its place.
        data = super().to_representation(instance)
        return {
            ("from" if k == "from_" else k): (v or None if k == "from_" else v)
            for k, v in data.items()
        }


class MessageDetailSerializer(MessageSerializer):
    events = MessageEventSerializer(many=True, read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = (*MessageSerializer.Meta.fields, "events")  # type: ignore[assignment]


class MessageInputSerializer(serializers.Serializer[None]):
    contact = serializers.UUIDField(required=False)
    to = serializers.CharField(max_length=40, required=False)
    template = serializers.UUIDField(required=False)
    body = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    media_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    send_after = serializers.DateTimeField(required=False)
    respect_quiet_hours = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("contact") and not attrs.get("to"):
            raise serializers.ValidationError({"to": ["Give contact (an id) or to (a number)."]})
        if attrs.get("contact") and attrs.get("to"):
            raise serializers.ValidationError({"to": ["Give contact or to, not both."]})
        if not attrs.get("template") and not (attrs.get("body") or "").strip():
            raise serializers.ValidationError({"body": ["Give body (text) or template (an id)."]})
        return attrs
