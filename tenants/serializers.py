from __future__ import annotations

from rest_framework import serializers

from tenants.forms import country_choices, time_zone_choices
from tenants.models import (
    API_KEY_ROLES,
    ORGANIZATION_SETTINGS,
    ApiKey,
    Membership,
    Organization,
    Role,
)


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    time_zone = serializers.ChoiceField(choices=time_zone_choices(), required=False)
    default_country = serializers.ChoiceField(choices=country_choices(), required=False)
    send_window_start = serializers.TimeField(format="%H:%M", required=False)
    send_window_end = serializers.TimeField(format="%H:%M", required=False)

    class Meta:
        model = Organization
        fields = ("id", "slug", *ORGANIZATION_SETTINGS, "created_at", "updated_at")
        read_only_fields = ("slug", "created_at", "updated_at")


class MemberSerializer(serializers.ModelSerializer[Membership]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    user_id = serializers.UUIDField(source="user.public_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ("id", "user_id", "email", "full_name", "role", "created_at")


class MemberRoleSerializer(serializers.Serializer[None]):
    role = serializers.ChoiceField(choices=Role.choices)


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    prefix = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = ("id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_prefix(self, api_key: ApiKey) -> str:
        return f"smsh_{api_key.prefix}_…"


class ApiKeyCreateSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=80)
    role = serializers.ChoiceField(choices=[str(r) for r in API_KEY_ROLES], default=Role.ADMIN)
