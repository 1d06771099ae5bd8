from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from messaging.models import Message, MessageEvent
from templates_sms.segments import MAX_TEXT
from tenants.api_schema import EXAMPLE_IDS, EXAMPLE_TIME, example, request_example

MESSAGE_EXAMPLE = {
    "id": EXAMPLE_IDS["message"],
    "direction": "outbound",
    "contact": EXAMPLE_IDS["contact"],
    "to": "+13125550142",
    "from": "+14155550100",
    "messaging_service_sid": None,
    "sid": "SM" + "0123456789abcdef" * 2,
    "body": "Hi Ana, welcome to Acme Coffee! Your first latte is on us. Reply STOP to opt out",
    "status": "delivered",
    "suppressed_reason": "",
    "needs_attention": False,
    "error_code": None,
    "error_message": "",
    "segments": 1,
    "encoding": "GSM-7",
    "source": "api",
    "source_ref": "api-key:k3y9abcd",
    "send_after": None,
    "created_at": EXAMPLE_TIME,
    "updated_at": EXAMPLE_TIME,
}


class MessageEventSerializer(serializers.ModelSerializer[MessageEvent]):
    class Meta:
        model = MessageEvent
        fields = ("status", "error_code", "at", "params")


@extend_schema_serializer(
    examples=[
        example(MESSAGE_EXAMPLE),
        example(
            {**MESSAGE_EXAMPLE, "status": "pending", "sid": None},
            "Accepted",
            status_codes=[202],
        ),
    ]
)
class MessageSerializer(serializers.ModelSerializer[Message]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    contact = serializers.SerializerMethodField(help_text="The contact's id.")
    to = serializers.CharField()
    # "from" is a Python keyword: the field is declared as from_ and answered as "from".
    from_ = serializers.SerializerMethodField(help_text="The sender's number (E.164).")
    messaging_service_sid = serializers.SerializerMethodField()
    sid = serializers.CharField(allow_null=True, help_text="Twilio's SID, once it has one.")

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

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        return {("from" if name == "from_" else name): field for name, field in fields.items()}

    def get_contact(self, message: Message) -> str | None:
        return str(message.contact.public_id) if message.contact else None

    def get_from(self, message: Message) -> str | None:
        return message.from_number or None

    def get_messaging_service_sid(self, message: Message) -> str | None:
        return message.messaging_service_sid or None


@extend_schema_serializer(
    examples=[
        example(
            {
                **MESSAGE_EXAMPLE,
                "events": [
                    {"status": "queued", "error_code": None, "at": EXAMPLE_TIME, "params": {}},
                    {"status": "delivered", "error_code": None, "at": EXAMPLE_TIME, "params": {}},
                ],
            }
        )
    ]
)
class MessageDetailSerializer(MessageSerializer):
    events = MessageEventSerializer(many=True, read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = (*MessageSerializer.Meta.fields, "events")  # type: ignore[assignment]


@extend_schema_serializer(
    examples=[
        request_example({"to": "+1 312 555 0142", "template": EXAMPLE_IDS["template"]}),
        request_example(
            {"contact": EXAMPLE_IDS["contact"], "body": "Your order is ready."},
            "A text to a contact",
        ),
    ]
)
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
