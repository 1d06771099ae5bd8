from __future__ import annotations

from typing import Any

from rest_framework import serializers

from contacts.models import ConsentEvent, Contact


class ContactSerializer(serializers.ModelSerializer[Contact]):
    """Output. ``opted_out`` / ``opted_out_at`` come from the consent state of the number."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    timezone = serializers.CharField(source="time_zone")
    tags = serializers.SerializerMethodField()
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


class ContactInputSerializer(serializers.Serializer[None]):
    """Input: shapes only; the contact services validate the values and answer in words."""

    phone = serializers.CharField(max_length=40)
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


class TagInputSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=64)


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
