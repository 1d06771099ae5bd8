"""Refuses NUL (U+0000) in a request before any view sees it.

No database column can hold NUL, and PostgreSQL cannot even compare a value that has one
(psycopg raises ``ValueError`` before sending the query), so a NUL that reaches a filter or a
save is a 500. No person types one and no browser sends one unasked. This middleware answers
400 for a NUL in the path, in a query parameter's name or value, or in a posted form's field
names, values or file names: in the API's error shape under ``/api/``, as the 400 page
elsewhere. JSON bodies are checked where the API parses them (``tenants.api_base``), and so
is the one form the API takes, an import's upload (``StrictMultiPartParser``).

The webhooks (``/webhooks/``) are checked for the path only. Twilio signs the form as it
sends it, and its webhooks store a NUL from a handset as U+FFFD instead of losing the message;
an automation's incoming webhook reads its own body, with its own limits and JSON errors (a
form posted to it must get its 413 or 400, not Django's form parsing refusing it as HTML).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string

from tenants.api_base import error_body
from tenants.api_parsers import NUL_REFUSED

NUL = "\x00"
API_PREFIX = "/api/"
WEBHOOK_PREFIX = "/webhooks/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _shown(name: str) -> str:
    return name.replace(NUL, "\ufffd")


def _with_nul(items: Iterable[tuple[str, list[str]]]) -> str | None:
    """The name of the first parameter whose name or any value has a NUL."""
    for name, values in items:
        if NUL in name or any(NUL in value for value in values):
            return name
    return None


def _refuse(request: HttpRequest, message: str, field: str | None = None) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):
        fields = {_shown(field): [NUL_REFUSED]} if field is not None else None
        return JsonResponse(error_body("validation_error", message, fields), status=400)
    return HttpResponseBadRequest(render_to_string("400.html", {"reason": message}))


class NulRefusalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.refusal(request) or self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path_info
        if NUL in path:
            return _refuse(request, "The address contains a NUL character, which is not allowed.")
        if path.startswith(WEBHOOK_PREFIX):
            return None
        name = _with_nul(request.GET.lists())
        if name is not None:
            return _refuse(
                request,
                f"The query parameter “{_shown(name)}” contains a NUL character, "
                "which is not allowed.",
                name,
            )
        # Only Django parses forms, only for POST; the API reads JSON (415 otherwise), or an
        # upload's form through its own parser, which checks it.
        if (
            request.method == "POST"
            and request.content_type in FORM_TYPES
            and not path.startswith(API_PREFIX)
        ):
            name = _with_nul(request.POST.lists())
            if name is None:
                files = ((key, [f.name or "" for f in fs]) for key, fs in request.FILES.lists())
                name = _with_nul(files)
            if name is not None:
                return _refuse(
                    request,
                    f"The field “{_shown(name)}” contains a NUL character, which is not allowed.",
                    name,
                )
        return None
