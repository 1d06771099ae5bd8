"""The REST API's conventions in one place: Bearer keys, roles, errors, pagination.

Every API view of every room derives from ``OrganizationAPIView``: it authenticates the key,
checks the key's role (``read_role`` for safe methods, ``write_role`` otherwise), and scopes
lookups to the key's organization. Errors answer
``{"error": {"code": …, "message": …, "fields": {…}}}``: for a body too large too (413), and
for a JSON body nested too deeply or with NUL in a string (400; no database can store NUL).
The API takes JSON bodies (``tenants.api_parsers``); a view that takes an upload (the
contacts import) sets ``StrictMultiPartParser``, which refuses NUL in the form as the JSON
parser does. Each key has
a rate limit (``tenants.api_ratelimit``), counted right after the key is authenticated and
before its role is checked; every answer to a valid key says where its budget stands in the
``RateLimit-*`` headers, a 403 or a 404 too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.access import M, get_scoped_object, scoped
from tenants.actor import Actor
from tenants.api_auth import ApiKeyAuthentication, ApiKeyPrincipal, HasRole
from tenants.api_parsers import StrictJSONParser
from tenants.api_ratelimit import ApiKeyRateThrottle, RateLimit
from tenants.errors import ApplicationError, PreconditionFailed
from tenants.idempotency import idempotent
from tenants.models import ApiKey, Organization, Role


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = "-created_at"

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {"results": data, "next": self.get_next_link(), "previous": self.get_previous_link()}
        )

    def get_paginated_response_schema(self, schema: Any) -> dict[str, Any]:
        """The envelope in the OpenAPI schema (``tenants.api_schema``)."""
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["results", "next", "previous"],
            "properties": {
                "results": schema,
                "next": {**link, "example": "https://hub.example.com/api/v1/contacts/?cursor=cD0y"},
                "previous": {**link, "example": None},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        cursor, limit = super().get_schema_operation_parameters(view)
        cursor["description"] = "The page to answer: the cursor in a list's next or previous."
        limit["description"] = f"How many per page: {self.page_size} unless given, at most 200."
        limit["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return [cursor, limit]


class OrganizationAPIView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    parser_classes = [StrictJSONParser]
    permission_classes = [HasRole]
    throttle_classes = [ApiKeyRateThrottle]
    pagination_class = ApiCursorPagination
    read_role: str = Role.VIEWER
    write_role: str = Role.MARKETER

    def check_permissions(self, request: Request) -> None:
        # The key's rate limit comes before its role, so that a 403 counts and tells the
        # budget too (DRF would throttle after the permissions).
        super().check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request: Request) -> None:
        """Done in ``check_permissions``, before the role is checked."""

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        state: RateLimit = request.rate_limit  # type: ignore[attr-defined]
        raise exceptions.Throttled(
            wait,
            detail=f"Too many requests with this API key: at most {state.limit} at once, "
            f"then {state.rate} a second.",
        )

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        state: RateLimit | None = getattr(request, "rate_limit", None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        return response

    def created_once(
        self, request: Request, create: Callable[[], Response], *, sealed: bool = False
    ) -> Response:
        """A POST that creates something, done once per ``Idempotency-Key``: the same key with
        the same path and body gets the first answer again for 24 hours; with another, a 409
        ``idempotency_key_reused`` (``tenants.idempotency``). An upload counts by its bytes."""
        key = request.headers.get("Idempotency-Key", "").strip()[:200]
        if not key:
            return create()
        if "\x00" in key:  # no column holds NUL (PostgreSQL refuses it: it was a 500)
            raise ApplicationError.for_field(
                "Idempotency-Key", "An Idempotency-Key cannot contain a NUL character."
            )

        def run() -> tuple[int, Any]:
            response = create()
            return response.status_code, response.data

        status_code, body = idempotent(
            organization=self.organization,
            key=key,
            data={"path": request.path, "body": _fingerprinted(request.data)},
            run=run,
            sealed=sealed,
        )
        return Response(body, status=status_code)

    @property
    def api_key(self) -> ApiKey:
        if not isinstance(self.request.auth, ApiKey):  # HasRole already refused this request
            raise exceptions.NotAuthenticated
        return self.request.auth

    @property
    def organization(self) -> Organization:
        return self.api_key.organization

    @property
    def actor(self) -> Actor:
        return Actor.for_api_key(self.api_key)

    def scoped(self, model_or_queryset: type[M] | models.QuerySet[M]) -> models.QuerySet[M]:
        return scoped(model_or_queryset, self.organization)

    def get_scoped_object(
        self, model_or_queryset: type[M] | models.QuerySet[M], public_id: Any
    ) -> M:
        return get_scoped_object(model_or_queryset, self.organization, public_id)

    def paginate(self, queryset: models.QuerySet[Any], serializer_class: Any) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


def error_body(
    code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> dict[str, list[str]]:
    if not isinstance(detail, dict):
        return {}
    fields: dict[str, list[str]] = {}
    for field, errors in detail.items():
        items = errors if isinstance(errors, list) else [errors]
        fields[field] = [str(e) if not isinstance(e, dict) else str(_flatten(e)) for e in items]
    return fields


_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.ParseError: "parse_error",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def _too_large_body() -> dict[str, Any]:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_body(
        "request_too_large",
        f"The request body is larger than the API accepts ({limit} bytes).",
    )


def _fingerprinted(data: Any) -> Any:
    """The request's data as the idempotency fingerprint sees it: an upload by its bytes."""
    if not hasattr(data, "items"):
        return data
    seen: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, UploadedFile):
            digest = hashlib.sha256()
            for chunk in value.chunks():
                digest.update(chunk)
            value.seek(0)
            value = f"sha256:{digest.hexdigest()}"
        seen[name] = value
    return seen


def entity_tag(representation: Any) -> str:
    """A strong ``ETag`` for a resource as the API shows it: any change it shows changes it."""
    digest = hashlib.sha256(json.dumps(representation, sort_keys=True, default=str).encode())
    return f'"{digest.hexdigest()[:32]}"'


def precondition_check(request: Request, current: str) -> None:
    """``If-Match`` (RFC 9110): the change goes ahead only if the client saw the current
    version; ``*`` or no header at all leaves it to the client."""
    wanted = request.headers.get("If-Match", "").strip()
    if not wanted or wanted == "*":
        return
    tags = [tag.strip() for tag in wanted.split(",")]
    if current not in tags:
        raise PreconditionFailed(
            "Someone changed this since you read it: read it again (its ETag is new), then "
            "make your change.",
        )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return Response(_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        general = fields.pop("non_field_errors", [])
        if isinstance(exc.detail, list):
            general = [str(d) for d in exc.detail]
        message = " ".join(general) or "Some fields are not valid."
        body = error_body("validation_error", message, fields)
        return Response(body, status=status.HTTP_400_BAD_REQUEST, headers=headers)
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return Response(error_body(code, str(detail)), status=exc.status_code, headers=headers)


class _ApiKeyIfValid(ApiKeyAuthentication):
    """An unknown URL is a 404 whatever the key; a valid key's request still counts."""

    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            return None


class _AnyAccept(DefaultContentNegotiation):
    """The 404 is the API's JSON whatever ``Accept`` says."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class ApiNotFound(OrganizationAPIView):
    """Unknown URLs under /api/ answer in the API's error shape, not with an HTML page, with
    or without a key; with a valid key, the request counts towards its rate limit and the
    answer has the ``RateLimit-*`` headers, like any other."""

    authentication_classes = [_ApiKeyIfValid]
    permission_classes = []
    parser_classes = []
    content_negotiation_class = _AnyAccept
    schema = None  # not an endpoint

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound("There is no such API endpoint.")


api_not_found = ApiNotFound.as_view()


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: a request Django itself refused (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields…) answers in the API's error shape under
    /api/, with 413 for a body too large; pages keep Django's own 400 page."""
    if not request.path_info.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(_too_large_body(), status=413)
    return JsonResponse(error_body("bad_request", "The request could not be read."), status=400)
