from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from contacts.models import ConsentEvent, Contact
from tenants.api_schema import EXAMPLE_IDS, EXAMPLE_TIME, example, request_example

CONTACT_EXAMPLE = {
    "id": EXAMPLE_IDS["contact"],
    "phone": "+13125550142",
    "first_name": "Ana",
    "last_name": "Silva",
    "email": "ana@example.com",
    "timezone": "America/Chicago",
    "custom_fields": {"city": "Chicago", "plan": "gold"},
    "tags": ["customer", "vip"],
    "opted_out": False,
    "opted_out_at": None,
    "created_at": EXAMPLE_TIME,
    "updated_at": EXAMPLE_TIME,
}


@extend_schema_serializer(examples=[example(CONTACT_EXAMPLE)])
class ContactSerializer(serializers.ModelSerializer[Contact]):
    """Output. ``opted_out`` / ``opted_out_at`` come from the consent state of the number."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    timezone = serializers.CharField(source="time_zone", help_text="An IANA time zone name.")
    tags = serializers.SerializerMethodField(help_text="The tags' names, sorted.")
    opted_out = serializers.BooleanField(read_only=True)
    opted_out_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Contact
        fields = (
            "id",
            "phone",
            "first_name",
            "last_name",
            "email",
            "timezone",
            "custom_fields",
            "tags",
            "opted_out",
            "opted_out_at",
            "created_at",
            "updated_at",
        )

    def get_tags(self, contact: Contact) -> list[str]:
        return sorted(tag.name for tag in contact.tags.all())


@extend_schema_serializer(
    examples=[
        request_example(
            {
                "phone": "(312) 555-0142",
                "first_name": "Ana",
                "last_name": "Silva",
                "email": "ana@example.com",
                "timezone": "America/Chicago",
                "custom_fields": {"city": "Chicago"},
                "tags": ["customer"],
            }
        )
    ]
)
class ContactInputSerializer(serializers.Serializer[None]):
    """Input: shapes only; the contact services validate the values and answer in words."""

    phone = serializers.CharField(
        max_length=40, help_text="Any format; a national number is read in the default country."
    )
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    custom_fields = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=1000), required=False
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=100
    )

    def service_data(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        if "timezone" in data:
            data["time_zone"] = data.pop("timezone")
        return data


@extend_schema_serializer(examples=[request_example({"name": "vip"})])
class TagInputSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=64)


@extend_schema_serializer(
    examples=[
        example(
            {
                "id": EXAMPLE_IDS["consent"],
                "phone": "+13125550142",
                "contact_id": EXAMPLE_IDS["contact"],
                "kind": "opt_out",
                "source": "inbound_keyword",
                "message_sid": "SM" + "0123456789abcdef" * 2,
                "actor": "",
                "created_at": EXAMPLE_TIME,
            }
        )
    ]
)
class ConsentEventSerializer(serializers.ModelSerializer[ConsentEvent]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    contact_id = serializers.SerializerMethodField()

    class Meta:
        model = ConsentEvent
        fields = (
            "id",
            "phone",
            "contact_id",
            "kind",
            "source",
            "message_sid",
            "actor",
            "created_at",
        )

    def get_contact_id(self, event: ConsentEvent) -> str | None:
        return str(event.contact.public_id) if event.contact else None
