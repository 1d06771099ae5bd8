"""``/api/v1/automations/<id>/preflight/`` and ``…/launches/``: an automation run for many
contacts at once, as **Run now** and the activation's backfill do on the pages.

A launch is confirmed against figures: the client asks for the preflight (who would enter,
who each rule keeps out, the segments, the cost), shows it, and sends it back with the launch,
which is refused (409 ``preflight_stale``) when the audience has changed by more than 1% since.
The launch answers at once with its count; the work goes on in a task, and its progress is
read from the launch.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from automations.api import AutomationLookup
from automations.models import Automation, Launch
from automations.serializers_launch import (
    LaunchInputSerializer,
    LaunchSerializer,
    PreflightInputSerializer,
    PreflightSerializer,
)
from automations.services.launches import launch_cancel, launch_create, launch_preflight
from tenants.api_schema import IDEMPOTENCY_KEY, conflict
from tenants.idempotency import idempotent
from tenants.sources import Source


def _launches(automation: Automation) -> QuerySet[Launch]:
    return automation.launches.select_related("created_by", "cancelled_by")


class AutomationPreflightApi(AutomationLookup):
    """The preflight's figures for a launch to an audience (or the backfill). Nothing is
    written, yet it is for writers: it asks Twilio for prices, and only writers launch."""

    @extend_schema(
        summary="Count a launch (the preflight)",
        request=PreflightInputSerializer,
        responses={
            200: PreflightSerializer,
            **conflict("automation_not_active", "no_backfill"),
        },
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = self.get_automation(automation_id)
        serializer = PreflightInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        preflight = launch_preflight(
            automation=automation, audience=data.get("audience"), kind=data["kind"]
        )
        return Response(preflight.as_dict())


class AutomationLaunchesApi(AutomationLookup):
    """The automation's launches, newest first; a POST starts one (201). With an
    ``Idempotency-Key`` a retried call starts one launch and gets the first answer again."""

    @extend_schema(summary="The launches", responses=LaunchSerializer(many=True))
    def get(self, request: Request, automation_id: str) -> Response:
        return self.paginate(_launches(self.get_automation(automation_id)), LaunchSerializer)

    @extend_schema(
        summary="Start a launch",
        description="Send the preflight's answer back: a 409 `preflight_stale` when the "
        "audience has changed by more than 1% since. The work goes on in the background: "
        "read its progress from the launch.",
        parameters=[IDEMPOTENCY_KEY],
        request=LaunchInputSerializer,
        responses={
            201: LaunchSerializer,
            **conflict(
                "preflight_stale",
                "automation_not_active",
                "no_backfill",
                "already_backfilled",
                "idempotency_key_reused",
            ),
        },
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = self.get_automation(automation_id)
        serializer = LaunchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = request.headers.get("Idempotency-Key", "").strip()[:200]

        def create() -> tuple[int, Any]:
            # An API key is no person: the launch has no created_by.
            launch = launch_create(
                automation=automation,
                audience=data.get("audience"),
                kind=data["kind"],
                source=Source.API,
                preflight=data["preflight"],
            )
            return status.HTTP_201_CREATED, dict(LaunchSerializer(launch).data)

        if key:
            code, body = idempotent(
                organization=self.organization,
                key=key,
                data={"path": request.path, "body": request.data},
                run=create,
            )
        else:
            code, body = create()
        return Response(body, status=code)


class LaunchLookup(AutomationLookup):
    def get_launch(self, automation_id: str, launch_id: str) -> Launch:
        """The launch of this automation: another automation's, even of the same organization,
        is a 404 under this URL."""
        automation = self.get_automation(automation_id)
        return self.get_scoped_object(_launches(automation), launch_id)


class AutomationLaunchApi(LaunchLookup):
    @extend_schema(summary="A launch", responses=LaunchSerializer)
    def get(self, request: Request, automation_id: str, launch_id: str) -> Response:
        return Response(LaunchSerializer(self.get_launch(automation_id, launch_id)).data)


class AutomationLaunchCancelApi(LaunchLookup):
    """Stops the launch before its next chunk; the enrolments made so far go on."""

    @extend_schema(
        summary="Cancel a launch",
        request=None,
        responses={200: LaunchSerializer, **conflict("launch_not_open")},
    )
    def post(self, request: Request, automation_id: str, launch_id: str) -> Response:
        launch = launch_cancel(launch=self.get_launch(automation_id, launch_id))
        return Response(LaunchSerializer(launch).data)
