"""How a page request gets its organization, and the base view that scopes every lookup.

``OrganizationMiddleware`` sets ``request.organization`` and ``request.membership`` from the
session (the organization last switched to, else the first one), and makes the organization's
time zone the current one while a page is answered, so templates and forms show and read times
in it. The API and the webhooks stay in UTC. ``OrganizationView`` is the
base of every page that shows an organization's data: it requires a signed-in member, checks
the role for reading and for writing, and offers ``scoped()`` / ``get_scoped_object()`` so a
view cannot reach another organization's rows: those are a 404, never a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View

from tenants.actor import Actor
from tenants.models import Membership, Organization, Role
from tenants.selectors import membership_for_session

SESSION_ORGANIZATION_KEY = "organization_id"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Answers that machines read keep UTC: DRF writes (and reads naive) datetimes in the current
# zone, and the API's timestamps are ISO 8601 UTC.
UTC_PATHS = ("/api/", "/webhooks/")

M = TypeVar("M", bound=models.Model)


class OrganizationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership: Membership | None = None
        if request.user.is_authenticated:
            membership = membership_for_session(
                request.user, request.session.get(SESSION_ORGANIZATION_KEY)
            )
        request.membership = membership  # type: ignore[attr-defined]
        request.organization = membership.organization if membership else None  # type: ignore[attr-defined]
        if membership is None or request.path_info.startswith(UTC_PATHS):
            return self.get_response(request)
        timezone.activate(organization_zone(membership.organization))
        try:
            return self.get_response(request)
        finally:
            # The zone is the thread's (or the task's): the next request must not inherit it.
            timezone.deactivate()


def organization_zone(organization: Organization) -> ZoneInfo:
    """The organization's time zone; UTC when the stored name is empty or unknown."""
    try:
        return ZoneInfo(organization.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def switch_organization(request: HttpRequest, organization: Organization) -> None:
    request.session[SESSION_ORGANIZATION_KEY] = str(organization.public_id)


def scoped(
    model_or_queryset: type[M] | models.QuerySet[M], organization: Organization
) -> models.QuerySet[M]:
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, models.QuerySet)
        else model_or_queryset._default_manager.all()
    )
    return queryset.filter(organization=organization)


def get_scoped_object(
    model_or_queryset: type[M] | models.QuerySet[M], organization: Organization, public_id: Any
) -> M:
    """The object with that public id in that organization, else 404 (also for bad ids)."""
    try:
        key = UUID(str(public_id))
    except ValueError as exc:
        raise Http404 from exc
    found = scoped(model_or_queryset, organization).filter(public_id=key).first()
    if found is None:
        raise Http404
    return found


class OrganizationView(LoginRequiredMixin, View):
    """A page of the current organization. Reading needs ``read_role``, writing ``write_role``."""

    read_role: str = Role.VIEWER
    write_role: str = Role.MARKETER

    organization: Organization
    membership: Membership

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership: Membership | None = getattr(request, "membership", None)
        if membership is None:
            messages.info(request, "Create an organization to get started.")
            return redirect("organization_create")
        needed = self.read_role if request.method in SAFE_METHODS else self.write_role
        if not Role.at_least(membership.role, needed):
            raise PermissionDenied(
                f"This needs the {Role(needed).label.lower()} role or higher; "
                f"you are {Role(membership.role).label.lower()}."
            )
        self.membership = membership
        self.organization = membership.organization
        return super().dispatch(request, *args, **kwargs)

    @property
    def actor(self) -> Actor:
        return Actor.for_membership(self.membership)

    def can(self, role: str) -> bool:
        return Role.at_least(self.membership.role, role)

    def scoped(self, model_or_queryset: type[M] | models.QuerySet[M]) -> models.QuerySet[M]:
        return scoped(model_or_queryset, self.organization)

    def get_scoped_object(
        self, model_or_queryset: type[M] | models.QuerySet[M], public_id: Any
    ) -> M:
        return get_scoped_object(model_or_queryset, self.organization, public_id)
