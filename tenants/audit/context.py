"""Who is acting, for services that are not told: the request being answered.

``AuditRequestMiddleware`` keeps the request in a context variable while it is answered, and
``audit_record`` reads its user then, not before: an API request's key is authenticated by
DRF inside the view, after the middleware, and DRF sets the request's ``user`` to the key's
principal (``tenants.api_auth.ApiKeyPrincipal``) when it does. Outside a request (a management
command) there is none, and the event is the operator's.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _request.get()


class AuditRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
