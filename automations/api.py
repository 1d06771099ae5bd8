"""``/api/v1/automations/``: the automations' REST API.

The definition fields read and write the draft, checked as complete (what Publish needs), so
an automation written through the API can always be published. ``state`` moves it through its
life with the services' own rules: ``active`` activates (publishing first when nothing is
published yet; a refusal, such as no Twilio connection, is a 409 with the reason), ``paused``
pauses, ``archived`` archives; an automation is never deleted (DELETE answers 405).
Enrolments are ``runs``; a dry run says what each step would do for a contact now.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from automations.models import Automation, RunState, State
from automations.selectors import automation_runs, organization_automations
from automations.serializers import (
    RUN_STATES,
    AutomationInputSerializer,
    AutomationSerializer,
    ContactInputSerializer,
    DryRunSerializer,
    RunSerializer,
)
from automations.services.automations import (
    automation_activate,
    automation_archive,
    automation_create,
    automation_pause,
    automation_publish,
    automation_update,
)
from automations.services.dry_run import automation_dry_run
from automations.services.enrolment import contact_enrol
from contacts.models import Contact
from tenants.api_base import OrganizationAPIView, entity_tag, precondition_check
from tenants.api_schema import (
    ETAG,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    conflict,
    errors,
    once_conflict,
    query,
)
from tenants.errors import ConflictError
from tenants.idempotency import idempotent
from tenants.sources import Source

CREATE_STATES = (State.DRAFT, State.ACTIVE)
# An enrolment's occurrence key has 80 characters, "skip:" and "api:" included.
MAX_KEY = 64
STATE_CHANGE_WHY = (
    "Another automation has the name, or the state cannot change so (the message says why: "
    "no Twilio connection, say)."
)
STATE_CHANGE = conflict(
    "duplicate_name", "cannot_activate", "invalid_state", "conflict", description=STATE_CHANGE_WHY
)


def _state_change(automation: Automation, state: str | None) -> Automation:
    """Moves the automation to ``state`` through its service; the state it is in already is
    no change."""
    if not state or state == automation.state:
        return automation
    if state == State.ACTIVE:
        return automation_activate(automation=automation)
    if state == State.PAUSED:
        return automation_pause(automation=automation)
    if state == State.ARCHIVED:
        automation_archive(automation=automation)
        return automation
    message = "An automation does not go back to draft: pause or archive it."
    raise ConflictError(message, code="invalid_state", fields={"state": [message]})


def occurrence_key(idempotency_key: str) -> str:
    """The enrolment's occurrence key for an API call: the client's ``Idempotency-Key``
    (hashed when too long), else a fresh one, so that every call is an occurrence of its own."""
    if not idempotency_key:
        return f"api:{uuid.uuid4().hex}"
    if len(idempotency_key) > MAX_KEY:
        return f"api:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    return f"api:{idempotency_key}"


class AutomationLookup(OrganizationAPIView):
    def get_automation(self, automation_id: str) -> Automation:
        return self.get_scoped_object(organization_automations(self.organization), automation_id)


class AutomationsApi(OrganizationAPIView):
    @extend_schema(
        summary="The automations",
        parameters=[query("state", "Only automations in this state.", enum=State.values)],
        responses=AutomationSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        automations = organization_automations(self.organization)
        wanted = request.query_params.get("state")
        if wanted:
            if wanted not in State.values:
                raise serializers.ValidationError(
                    {"state": [f"The state is one of {', '.join(State.values)}."]}
                )
            automations = automations.filter(state=wanted)
        return self.paginate(automations, AutomationSerializer)

    @extend_schema(
        summary="Create an automation",
        description="The definition is checked as complete, as Publish needs it (a 400 names "
        "each problem by its path: `steps[2].template`). `state: active` activates it at once.",
        parameters=[IDEMPOTENCY_KEY],
        request=AutomationInputSerializer,
        responses={
            201: AutomationSerializer,
            **once_conflict(
                "duplicate_name",
                "cannot_activate",
                "invalid_state",
                "conflict",
                description=STATE_CHANGE_WHY,
            ),
        },
    )
    def post(self, request: Request) -> Response:
        return self.created_once(request, lambda: self.create(request))

    def create(self, request: Request) -> Response:
        serializer = AutomationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        state = serializer.validated_data.get("state") or State.DRAFT
        if state not in CREATE_STATES:
            raise serializers.ValidationError({"state": ["A new automation is draft or active."]})
        with transaction.atomic():  # a refused activation creates nothing
            automation = automation_create(
                organization=self.organization,
                name=serializer.validated_data["name"],
                definition=serializer.definition() or {},
                complete=True,
            )
            automation = _state_change(automation, state)
        return Response(AutomationSerializer(automation).data, status=status.HTTP_201_CREATED)


def _tagged(automation: Automation, status_code: int = 200) -> Response:
    """The automation as the API shows it, with its ``ETag`` (for ``If-Match``)."""
    data = AutomationSerializer(automation).data
    return Response(data, status=status_code, headers={"ETag": entity_tag(data)})


class AutomationApi(AutomationLookup):
    @extend_schema(
        summary="An automation",
        description="With its `ETag`: send it back as `If-Match` on a change, so that a change "
        "someone made meanwhile is not overwritten (412 instead).",
        parameters=[ETAG],
        responses={200: AutomationSerializer},
    )
    def get(self, request: Request, automation_id: str) -> Response:
        return _tagged(self.get_automation(automation_id))

    @extend_schema(
        summary="Change an automation",
        description="The definition fields sent replace the draft's (Publish makes it live); "
        "`state` moves it: active, paused or archived. An automation is never deleted: archive "
        "it. With `If-Match` (the `ETag` of your read), a change someone made since is a 412 "
        "rather than overwritten.",
        parameters=[IF_MATCH, ETAG],
        request=AutomationInputSerializer,
        responses={200: AutomationSerializer, **STATE_CHANGE, **errors(412)},
    )
    def patch(self, request: Request, automation_id: str) -> Response:
        automation = self.get_automation(automation_id)  # 404 before any validation
        serializer = AutomationInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data.get("name")
        given = serializer.definition()
        with transaction.atomic():  # a refused state change keeps the edit out too
            # Checked under the row's lock: two editors sending the same ETag, one wins.
            automation = Automation.objects.select_for_update().get(pk=automation.pk)
            precondition_check(request, entity_tag(AutomationSerializer(automation).data))
            if name is not None or given is not None:
                automation = automation_update(
                    automation=automation,
                    name=name,
                    definition={**automation.draft, **given} if given else None,
                    complete=True,
                )
            automation = _state_change(automation, serializer.validated_data.get("state"))
        return _tagged(automation)

    def http_method_not_allowed(  # type: ignore[override]  # as DRF declares it
        self, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        """405 (PUT, DELETE): for DELETE with the way instead, once the automation is found
        (another organization's is a 404, as always)."""
        if request.method == "DELETE":
            self.get_automation(kwargs["automation_id"])
            raise exceptions.MethodNotAllowed(
                "DELETE",
                detail='An automation is not deleted: archive it with PATCH {"state": "archived"}.',
            )
        return super().http_method_not_allowed(request, *args, **kwargs)


class AutomationPublishApi(AutomationLookup):
    @extend_schema(
        summary="Publish the draft",
        description="The draft becomes the next live version, which new enrolments enter.",
        request=None,
        responses={
            200: AutomationSerializer,
            **conflict("conflict", description="An archived automation is not published."),
        },
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = self.get_automation(automation_id)
        automation_publish(automation=automation)
        return Response(AutomationSerializer(automation).data)


class AutomationActivateApi(AutomationLookup):
    @extend_schema(
        summary="Activate",
        description="Publishes first when nothing is published yet.",
        request=None,
        responses={200: AutomationSerializer, **conflict("cannot_activate")},
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = automation_activate(automation=self.get_automation(automation_id))
        return Response(AutomationSerializer(automation).data)


class AutomationPauseApi(AutomationLookup):
    @extend_schema(
        summary="Pause",
        description="Waiting enrolments stay where they are.",
        request=None,
        responses={
            200: AutomationSerializer,
            **conflict("conflict", description="Only an active automation is paused."),
        },
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = automation_pause(automation=self.get_automation(automation_id))
        return Response(AutomationSerializer(automation).data)


class AutomationRunsApi(AutomationLookup):
    @extend_schema(
        summary="The enrolments",
        description="Each with its step ledger, oldest step first.",
        parameters=[
            query("contact", "A contact's id: its enrolments only.", OpenApiTypes.UUID),
            query("state", "Only enrolments in this state.", enum=RUN_STATES),
        ],
        responses=RunSerializer(many=True),
    )
    def get(self, request: Request, automation_id: str) -> Response:
        automation = self.get_automation(automation_id)
        params = request.query_params
        contact_id, state = params.get("contact"), params.get("state")
        if state and state not in RUN_STATES:
            raise serializers.ValidationError(
                {"state": [f"The state is one of {', '.join(RUN_STATES)}."]}
            )
        contact = self.get_scoped_object(Contact, contact_id) if contact_id else None
        runs = automation_runs(automation, contact=contact, state=state or None)
        return self.paginate(runs, RunSerializer)


class AutomationDryRunApi(AutomationLookup):
    """What each step would do for a contact now; nothing is sent or written."""

    write_role = OrganizationAPIView.read_role  # a dry run changes nothing

    @extend_schema(
        summary="Dry run for a contact",
        request=ContactInputSerializer,
        responses=DryRunSerializer,
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = self.get_automation(automation_id)
        serializer = ContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = self.get_scoped_object(Contact, serializer.validated_data["contact"])
        dry = automation_dry_run(automation=automation, contact=contact)
        return Response(DryRunSerializer(dry).data)


class AutomationEnrolApi(AutomationLookup):
    """Enrols one contact now: 201 with the enrolment, or 200 with the skip and its reason.
    With an ``Idempotency-Key`` a retried call enrols once and gets the first answer again."""

    @extend_schema(
        summary="Enrol a contact",
        parameters=[IDEMPOTENCY_KEY],
        request=ContactInputSerializer,
        responses={
            200: RunSerializer,
            201: RunSerializer,
            **conflict("not_active", "idempotency_key_reused"),
        },
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = self.get_automation(automation_id)
        serializer = ContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = self.get_scoped_object(Contact, serializer.validated_data["contact"])
        key = request.headers.get("Idempotency-Key", "").strip()[:200]

        def enrol() -> tuple[int, Any]:
            return self.enrol(automation, contact, occurrence_key(key))

        if key:
            code, body = idempotent(
                organization=self.organization,
                key=key,
                data={"path": request.path, "body": request.data},
                run=enrol,
            )
        else:
            code, body = enrol()
        return Response(body, status=code)

    def enrol(self, automation: Automation, contact: Contact, key: str) -> tuple[int, Any]:
        if automation.state != State.ACTIVE:
            raise ConflictError(
                "Only an active automation enrols contacts: activate it first.",
                code="not_active",
            )
        run = contact_enrol(
            automation=automation, contact_id=contact.pk, key=key, source=Source.API
        )
        if run is None:  # paused or archived meanwhile
            raise ConflictError(
                "Only an active automation enrols contacts: activate it first.",
                code="not_active",
            )
        run = automation_runs(automation).get(pk=run.pk)
        code = status.HTTP_200_OK if run.state == RunState.SKIPPED else status.HTTP_201_CREATED
        return code, dict(RunSerializer(run).data)
