"""The API's shapes of a launch (a manual run or a backfill) and of what a client sends to
count one (the preflight) and to start one.

The audience is taken as given and checked by ``audience_clean``, whose errors name their
paths (``audience.has_all_tags``). A launch's ``preflight`` is the figures the client showed
before confirming, echoed back: the launch compares their ``audience`` with the audience now
and records them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from automations.models import Launch, LaunchKind
from automations.services.preflight import Preflight
from tenants.api_schema import EXAMPLE_IDS, EXAMPLE_TIME, example, request_example
from tenants.models import User

# The figures ``Preflight.as_dict`` answers: a launch records these of what it is sent.
PREFLIGHT_FIGURES = frozenset(f.name for f in dataclasses.fields(Preflight))
# What a client may start; a bulk change's launch is made by the change itself.
STARTED_KINDS = [(kind.value, kind.label) for kind in (LaunchKind.MANUAL, LaunchKind.BACKFILL)]


PREFLIGHT_EXAMPLE = {
    "audience": 1200,
    "excluded": {
        "opted_out": 14,
        "entry_rules": 100,
        "reentry": 0,
        "no_valid_number": 2,
        "frequency_cap": 0,
    },
    "eligible": 1084,
    "send_step": "welcome",
    "send_waits": False,
    "deferred": 0,
    "deferred_until": None,
    "segments": 1084,
    "cost": {
        "available": True,
        "unavailable": "",
        "currency": "USD",
        "total": "8.9430",
        "lines": [
            {"country": "US", "segments": 1084, "unit_price": "0.00825", "subtotal": "8.9430"}
        ],
        "unpriced": [],
    },
    "at": EXAMPLE_TIME,
}
AUDIENCE_EXAMPLE = {"has_any_tags": ["vip"]}


@extend_schema_serializer(
    examples=[
        request_example({"audience": AUDIENCE_EXAMPLE}),
        request_example({"kind": "backfill"}, "A backfill"),
    ]
)
class PreflightInputSerializer(serializers.Serializer[None]):
    audience = serializers.JSONField(
        required=False,
        help_text="Who: has_all_tags, has_any_tags, lacks_tags (names), custom_fields; left "
        "out, every contact. A backfill takes none: it goes to who already matches the trigger.",
    )
    kind = serializers.ChoiceField(choices=STARTED_KINDS, default=LaunchKind.MANUAL)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A backfill goes to whoever already matches the trigger: an audience sent with it
        would be ignored, so it is refused rather than let the client believe it counted."""
        if attrs["kind"] == LaunchKind.BACKFILL and "audience" in attrs:
            raise serializers.ValidationError(
                {
                    "audience": [
                        "A backfill goes to the contacts who already match the trigger: "
                        "leave the audience out."
                    ]
                }
            )
        return attrs


@extend_schema_serializer(
    examples=[request_example({"audience": AUDIENCE_EXAMPLE, "preflight": PREFLIGHT_EXAMPLE})]
)
class LaunchInputSerializer(PreflightInputSerializer):
    preflight = serializers.DictField(
        error_messages={"required": "Run the preflight first and send its figures back."},
        help_text="The preflight's answer, as it was shown before confirming.",
    )

    def validate_preflight(self, value: dict[str, Any]) -> dict[str, Any]:
        """The preflight's own figures only: the launch keeps what the confirmation showed,
        not whatever else a client sends along."""
        return {key: figure for key, figure in value.items() if key in PREFLIGHT_FIGURES}


@extend_schema_serializer(
    examples=[
        example(
            {
                "id": EXAMPLE_IDS["launch"],
                "kind": "manual",
                "state": "running",
                "audience": AUDIENCE_EXAMPLE,
                "total": 1084,
                "done": 500,
                "enrolled": 498,
                "skipped": 2,
                "percent": 46,
                "preflight": PREFLIGHT_EXAMPLE,
                "error": "",
                "created_by": None,
                "cancelled_by": None,
                "created_at": EXAMPLE_TIME,
                "started_at": EXAMPLE_TIME,
                "finished_at": None,
            }
        )
    ]
)
class LaunchSerializer(serializers.ModelSerializer[Launch]):
    """A launch and its progress; who started or cancelled it by email (null: an API key or
    the system)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    created_by = serializers.SerializerMethodField()
    cancelled_by = serializers.SerializerMethodField()

    class Meta:
        model = Launch
        fields = (
            "id",
            "kind",
            "state",
            "audience",
            "total",
            "done",
            "enrolled",
            "skipped",
            "percent",
            "preflight",
            "error",
            "created_by",
            "cancelled_by",
            "created_at",
            "started_at",
            "finished_at",
        )

    @staticmethod
    def _email(user: User | None) -> str | None:
        return user.email if user is not None else None

    def get_created_by(self, launch: Launch) -> str | None:
        return self._email(launch.created_by)

    def get_cancelled_by(self, launch: Launch) -> str | None:
        return self._email(launch.cancelled_by)


class CostLineSerializer(serializers.Serializer[None]):
    country = serializers.CharField()
    segments = serializers.IntegerField()
    unit_price = serializers.CharField(help_text="A decimal, as a string.")
    subtotal = serializers.CharField(help_text="A decimal, as a string.")


class UnpricedSerializer(serializers.Serializer[None]):
    country = serializers.CharField()
    segments = serializers.IntegerField()


class CostSerializer(serializers.Serializer[None]):
    available = serializers.BooleanField(help_text="Whether Twilio's prices could be read.")
    unavailable = serializers.CharField(help_text="Why not, when they could not.")
    currency = serializers.CharField()
    total = serializers.CharField(help_text="A decimal, as a string.")
    lines = CostLineSerializer(many=True)
    unpriced = UnpricedSerializer(many=True)


@extend_schema_serializer(examples=[example(PREFLIGHT_EXAMPLE)])
class PreflightSerializer(serializers.Serializer[None]):
    """The schema of ``Preflight.as_dict``: who would enter, who each rule keeps out, the
    segments and the cost."""

    audience = serializers.IntegerField(help_text="Contacts the audience holds.")
    excluded = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="How many each rule keeps out: opted_out, entry_rules, reentry, "
        "no_valid_number, frequency_cap.",
    )
    eligible = serializers.IntegerField(help_text="Who would enter.")
    send_step = serializers.CharField(help_text="The first send step's id (empty: none).")
    send_waits = serializers.BooleanField(help_text="A wait comes before the first send.")
    deferred = serializers.IntegerField(help_text="Of the eligible, how many quiet hours hold.")
    deferred_until = serializers.DateTimeField(allow_null=True)
    segments = serializers.IntegerField()
    cost = CostSerializer()
    at = serializers.DateTimeField()
