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

from rest_framework import serializers

from automations.models import Launch, LaunchKind
from automations.services.preflight import Preflight
from tenants.models import User

# The figures ``Preflight.as_dict`` answers: a launch records these of what it is sent.
PREFLIGHT_FIGURES = frozenset(f.name for f in dataclasses.fields(Preflight))
# What a client may start; a bulk change's launch is made by the change itself.
STARTED_KINDS = [(kind.value, kind.label) for kind in (LaunchKind.MANUAL, LaunchKind.BACKFILL)]


class PreflightInputSerializer(serializers.Serializer[None]):
    audience = serializers.JSONField(required=False)
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


class LaunchInputSerializer(PreflightInputSerializer):
    preflight = serializers.DictField(
        error_messages={"required": "Run the preflight first and send its figures back."}
    )

    def validate_preflight(self, value: dict[str, Any]) -> dict[str, Any]:
        """The preflight's own figures only: the launch keeps what the confirmation showed,
        not whatever else a client sends along."""
        return {key: figure for key, figure in value.items() if key in PREFLIGHT_FIGURES}


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
