"""Two-factor sign-in at the door of every page.

- The Django admin's own sign-in form knows no second factor: it is sent to ours.
- A member of an organization that requires two-factor sign-in, whose session is not
  verified with it, is sent to set it up (or, when it is on but this session was signed in
  before it was, to finish signing in with a code) from every page of that organization.
  Signing out, the two-factor pages and switching to another organization stay open; API keys
  and webhooks are not people and are never affected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from tenants.two_factor.pending import pending_start
from tenants.two_factor.selectors import two_factor_enabled

MACHINE_PATHS = ("/api/", "/webhooks/", "/healthz", settings.STATIC_URL)
OPEN_WHILE_REQUIRED = frozenset(
    {
        "logout",
        "login",
        "login_two_factor",
        "two_factor",
        "two_factor_setup",
        "two_factor_qr",
        "two_factor_confirm",
        "two_factor_recovery_codes",
        "two_factor_disable",
        "organization_switch",
    }
)
DEFAULT_BACKEND = "django.contrib.auth.backends.ModelBackend"


def session_verified(request: HttpRequest) -> bool:
    """Whether this session was signed in with a second factor (django-otp's middleware
    loads the device it was verified with)."""
    return getattr(request.user, "otp_device", None) is not None


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        match = request.resolver_match
        if match is None or request.path_info.startswith(MACHINE_PATHS):
            return None
        user = request.user
        if match.view_name == "admin:login" and (
            request.method != "GET" or not user.is_authenticated
        ):
            query = urlencode({"next": request.GET.get("next", reverse("admin:index"))})
            return redirect(f"{reverse('login')}?{query}")
        organization = getattr(request, "organization", None)
        if (
            not user.is_authenticated
            or organization is None
            or not organization.require_two_factor
            or match.url_name in OPEN_WHILE_REQUIRED
            or session_verified(request)
        ):
            return None
        if two_factor_enabled(user):
            backend = request.session.get(BACKEND_SESSION_KEY, DEFAULT_BACKEND)
            next_url = request.get_full_path() if request.method == "GET" else ""
            logout(request)
            pending_start(request, user=user, backend=backend, next_url=next_url)
            return redirect("login_two_factor")
        messages.warning(
            request,
            f"{organization.name} requires two-factor sign-in. Turn it on to continue.",
        )
        return redirect("two_factor")
