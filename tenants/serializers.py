from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from tenants.api_schema import EXAMPLE_IDS, EXAMPLE_TIME, example, request_example
from tenants.forms import country_choices, time_zone_choices
from tenants.models import (
    API_KEY_ROLES,
    ORGANIZATION_SETTINGS,
    ApiKey,
    Membership,
    Organization,
    Role,
)


@extend_schema_field(
    {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "08:00"}
)
class HourMinuteField(serializers.TimeField):
    """A time of day as ``HH:MM`` (an OpenAPI ``time`` would need seconds and an offset)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


@extend_schema_serializer(
    examples=[
        example(
            {
                "id": EXAMPLE_IDS["organization"],
                "slug": "acme-coffee",
                "name": "Acme Coffee",
                "time_zone": "America/New_York",
                "default_country": "US",
                "send_window_start": "08:00",
                "send_window_end": "21:00",
                "frequency_cap": 3,
                "opt_out_footer": "Reply STOP to opt out",
                "help_reply": "Acme Coffee: text STOP to opt out.",
                "message_retention_days": 400,
                "api_rate_limit": None,
                "api_burst": None,
                "require_two_factor": False,
                "created_at": EXAMPLE_TIME,
                "updated_at": EXAMPLE_TIME,
            }
        ),
        request_example({"time_zone": "America/Chicago", "frequency_cap": 2}),
    ]
)
class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    time_zone = serializers.ChoiceField(choices=time_zone_choices(), required=False)
    default_country = serializers.ChoiceField(choices=country_choices(), required=False)
    send_window_start = HourMinuteField(required=False)
    send_window_end = HourMinuteField(required=False)
    require_two_factor = serializers.BooleanField(
        required=False,
        help_text="Everyone who belongs to the organization must use two-factor sign-in. "
        "Only an owner changes it, on the Settings page: sending it with a key is a 403.",
    )

    class Meta:
        model = Organization
        fields = (
            "id",
            "slug",
            *ORGANIZATION_SETTINGS,
            "require_two_factor",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("slug", "created_at", "updated_at")


@extend_schema_serializer(
    examples=[
        example(
            {
                "id": EXAMPLE_IDS["member"],
                "user_id": EXAMPLE_IDS["user"],
                "email": "maria@acme.example.com",
                "full_name": "Maria Lopez",
                "role": "marketer",
                "created_at": EXAMPLE_TIME,
            }
        )
    ]
)
class MemberSerializer(serializers.ModelSerializer[Membership]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    user_id = serializers.UUIDField(source="user.public_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ("id", "user_id", "email", "full_name", "role", "created_at")


@extend_schema_serializer(examples=[request_example({"role": "marketer"})])
class MemberRoleSerializer(serializers.Serializer[None]):
    role = serializers.ChoiceField(choices=Role.choices)


API_KEY_EXAMPLE = {
    "id": EXAMPLE_IDS["api_key"],
    "name": "CRM sync",
    "role": "marketer",
    "prefix": "smsh_k3y9abcd_…",
    "created_at": EXAMPLE_TIME,
    "last_used_at": None,
    "revoked_at": None,
}


# As the model's field has them; the schema names the enum (SPECTACULAR_SETTINGS).
API_KEY_ROLE_CHOICES = [(role.value, role.label) for role in API_KEY_ROLES]


@extend_schema_serializer(examples=[example(API_KEY_EXAMPLE)])
class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    prefix = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = ("id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_prefix(self, api_key: ApiKey) -> str:
        return f"smsh_{api_key.prefix}_…"


@extend_schema_serializer(examples=[request_example({"name": "CRM sync", "role": "marketer"})])
class ApiKeyCreateSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=80)
    role = serializers.ChoiceField(choices=API_KEY_ROLE_CHOICES, default=Role.ADMIN)


@extend_schema_serializer(
    examples=[example({**API_KEY_EXAMPLE, "key": "smsh_k3y9abcd_Zx8…"}, status_codes=[201])]
)
class ApiKeyCreatedSerializer(ApiKeySerializer):
    """The answer to creating a key: the key itself, once."""

    key = serializers.CharField(help_text="The key, shown only in this answer.")

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "key")  # type: ignore[assignment]
