"""``/api/v1/organization/``, ``/api/v1/members/`` and ``/api/v1/api-keys/``."""

from __future__ import annotations

from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.api_base import OrganizationAPIView
from tenants.api_schema import IDEMPOTENCY_KEY, conflict, once_conflict
from tenants.caching import no_store
from tenants.models import ApiKey, Membership, Role
from tenants.selectors import organization_api_keys, organization_members
from tenants.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    MemberRoleSerializer,
    MemberSerializer,
    OrganizationSerializer,
)
from tenants.services.api_keys import api_key_create, api_key_revoke
from tenants.services.members import membership_change_role, membership_remove
from tenants.services.organizations import organization_update
from tenants.two_factor.services import organization_two_factor_require


class OrganizationApi(OrganizationAPIView):
    """The key's organization; admins change its settings with PATCH."""

    write_role = Role.ADMIN

    @extend_schema(summary="The key's organization", responses=OrganizationSerializer)
    def get(self, request: Request) -> Response:
        return Response(OrganizationSerializer(self.organization).data)

    @extend_schema(
        summary="Change the organization's settings",
        description="`require_two_factor` is an owner's choice and keys are never owners: "
        "a PATCH that sends it is a 403 and changes nothing.",
        request=OrganizationSerializer,
        responses=OrganizationSerializer,
    )
    def patch(self, request: Request) -> Response:
        serializer = OrganizationSerializer(self.organization, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        with transaction.atomic():
            if "require_two_factor" in data:
                organization_two_factor_require(
                    organization=self.organization,
                    by=self.actor,
                    required=data.pop("require_two_factor"),
                )
            organization = organization_update(organization=self.organization, data=data)
        return Response(OrganizationSerializer(organization).data)


class MembersApi(OrganizationAPIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(summary="The members", responses=MemberSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(organization_members(self.organization), MemberSerializer)


class MemberApi(OrganizationAPIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_member(self, member_id: str) -> Membership:
        return self.get_scoped_object(Membership.objects.select_related("user"), member_id)

    @extend_schema(summary="A member", responses=MemberSerializer)
    def get(self, request: Request, member_id: str) -> Response:
        return Response(MemberSerializer(self.get_member(member_id)).data)

    @extend_schema(
        summary="Change a member's role",
        description="Only an owner makes someone an owner or changes an owner's role (403).",
        request=MemberRoleSerializer,
        responses={200: MemberSerializer, **conflict("last_owner")},
    )
    def patch(self, request: Request, member_id: str) -> Response:
        member = self.get_member(member_id)  # another organization's member is a 404 first
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_change_role(
            membership=member,
            role=serializer.validated_data["role"],
            by=self.actor,
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(
        summary="Remove a member",
        description="Only an owner removes an owner (403).",
        responses={204: None, **conflict("last_owner")},
    )
    def delete(self, request: Request, member_id: str) -> Response:
        membership_remove(membership=self.get_member(member_id), by=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(no_store, name="dispatch")  # POST answers the new key once
class ApiKeysApi(OrganizationAPIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(summary="The API keys", responses=ApiKeySerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(organization_api_keys(self.organization), ApiKeySerializer)

    @extend_schema(
        summary="Create an API key",
        description="The answer carries the key, once: it is stored hashed. (A retry with the "
        "same `Idempotency-Key` gets the same answer, kept encrypted for those 24 hours.)",
        parameters=[IDEMPOTENCY_KEY],
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer, **once_conflict()},
    )
    def post(self, request: Request) -> Response:
        return self.created_once(request, lambda: self.create(request), sealed=True)

    def create(self, request: Request) -> Response:
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, key = api_key_create(organization=self.organization, **serializer.validated_data)
        body = {**ApiKeySerializer(api_key).data, "key": key}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyApi(OrganizationAPIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(summary="An API key", responses=ApiKeySerializer)
    def get(self, request: Request, key_id: str) -> Response:
        return Response(ApiKeySerializer(self.get_scoped_object(ApiKey, key_id)).data)

    @extend_schema(
        summary="Revoke an API key",
        description="The key answers 401 from then on.",
        responses={204: None, **conflict("conflict", description="The key is already revoked.")},
    )
    def delete(self, request: Request, key_id: str) -> Response:
        api_key_revoke(api_key=self.get_scoped_object(ApiKey, key_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
