"""API authentication (Bearer keys) and role permission.

Kept apart from ``tenants.api_base`` because DRF imports these classes from its settings while
``rest_framework.views`` is still loading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

if TYPE_CHECKING:
    from rest_framework.views import APIView

from tenants.models import ApiKey, Role
from tenants.services.api_keys import api_key_authenticate


class ApiKeyPrincipal:
    """What ``request.user`` is for an API request: the key, standing in for a person."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return f"API key {self.api_key.name}"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        header = get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != "bearer" or not raw_key.strip():
            raise exceptions.AuthenticationFailed("Send the key as: Authorization: Bearer <key>.")
        api_key = api_key_authenticate(raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is not valid or has been revoked.")
        # The page middleware's attributes, for code shared with pages.
        request._request.organization = api_key.organization  # type: ignore[attr-defined]
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class HasRole(BasePermission):
    message = "This API key's role does not allow this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not isinstance(request.auth, ApiKey):
            return False
        needed = (
            getattr(view, "read_role", Role.VIEWER)
            if request.method in SAFE_METHODS
            else getattr(view, "write_role", Role.MARKETER)
        )
        if Role.at_least(request.auth.role, needed):
            return True
        self.message = (
            f"This needs a key with the {Role(needed).label.lower()} role or higher; "
            f"this key is {Role(request.auth.role).label.lower()}."
        )
        return False
