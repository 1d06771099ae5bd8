"""``/api/v1/audit-events/``: the audit log, read-only, admin keys only."""

from __future__ import annotations

import datetime
import uuid

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.api_base import ApiCursorPagination, OrganizationAPIView
from tenants.api_schema import query
from tenants.audit.models import Action, AuditEvent, TargetType
from tenants.audit.selectors import OPERATOR, AuditFilter, audit_events
from tenants.audit.serializers import AuditEventSerializer
from tenants.errors import ApplicationError
from tenants.models import Role

FILTERS = [
    query("action", "One action, such as `member.role_changed`.", enum=Action.values),
    query("actor", "A member's or an API key's id, or `operator` (the command line)."),
    query("target_type", "One kind of target, such as `automation`.", enum=TargetType.values),
    query(
        "since",
        "From this moment on (ISO 8601; a date alone is midnight UTC).",
        OpenApiTypes.DATETIME,
    ),
    query(
        "until",
        "Before this moment (ISO 8601; a date alone is midnight UTC).",
        OpenApiTypes.DATETIME,
    ),
]


class AuditPagination(ApiCursorPagination):
    ordering = "-at"


def _moment(params: QueryDict, name: str) -> datetime.datetime | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        moment = parse_datetime(text)
        day = None if moment else parse_date(text)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
    if moment is None:
        raise ApplicationError.for_field(
            name, "Use an ISO 8601 time, such as 2026-03-02T15:04:05Z."
        )
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=datetime.UTC)


def _choice(params: QueryDict, name: str, allowed: list[str]) -> str:
    value = params.get(name, "").strip()
    if value and value not in allowed:
        raise ApplicationError.for_field(name, f"“{value}” is not one of: {', '.join(allowed)}.")
    return value


def api_audit_filter(params: QueryDict) -> AuditFilter:
    """The query's filters; a bad one is a 400 naming the parameter."""
    actor = params.get("actor", "").strip()
    if actor and actor != OPERATOR:
        try:
            actor = str(uuid.UUID(actor))
        except ValueError:
            raise ApplicationError.for_field(
                "actor", "Use a member's or an API key's id, or “operator”."
            ) from None
    return AuditFilter(
        action=_choice(params, "action", Action.values),
        actor=actor,
        target_type=_choice(params, "target_type", TargetType.values),
        since=_moment(params, "since"),
        until=_moment(params, "until"),
    )


class AuditAPIView(OrganizationAPIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    pagination_class = AuditPagination


class AuditEventsApi(AuditAPIView):
    @extend_schema(
        summary="The audit log",
        description="Who changed the organization's setup, when and from where, newest first "
        "(kept for two years; read-only).",
        parameters=FILTERS,
        responses=AuditEventSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = api_audit_filter(request.query_params)
        events = audit_events(self.organization, filters).select_related(
            "actor_user", "actor_api_key"
        )
        return self.paginate(events, AuditEventSerializer)


class AuditEventApi(AuditAPIView):
    @extend_schema(summary="An audit event", responses=AuditEventSerializer)
    def get(self, request: Request, event_id: str) -> Response:
        event = self.get_scoped_object(AuditEvent, event_id)
        return Response(AuditEventSerializer(event).data)
