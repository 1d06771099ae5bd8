"""The API's OpenAPI schema (``/api/v1/schema/``), generated from the views by drf-spectacular.

Each room annotates its own views (``extend_schema``: the request, the answers, the query
parameters); what every API view shares is added here, from the view itself, so that no
annotation repeats it:

- the ``Authorization: Bearer <key>`` scheme (``ApiKeyScheme``);
- the role an operation needs, from the view's ``read_role`` / ``write_role`` as ``HasRole``
  reads them, in its description;
- every path parameter: an ``…_id`` is a public id (UUID), another (a tag's name) a string;
- the error answers in the error shape (``ErrorSerializer``): 401 and 429 always; 403 when
  the role needed is above viewer; 400 always (a field, a parameter, or the request itself:
  a NUL, a Host that is not ours); 404 for one with a path parameter, a cursor or a filter by
  id; 413 and 415 for one with a body. A view adds its own (409, 502) with ``errors(…)``;
- the list envelope ``{"results", "next", "previous"}`` with ``cursor`` and ``limit``: an
  operation answering ``Serializer(many=True)`` is a list (``ApiCursorPagination``);
- the rate limit's ``RateLimit-*`` headers on every answer but a 401, ``Retry-After`` on a
  429 (``postprocess``).
"""

from __future__ import annotations

from typing import Any

import uritemplate
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from tenants.models import Role

DESCRIPTION = """\
The REST API of SMS Hub: contacts and their consent, SMS templates, messages, automations and
their launches, the Twilio connection, members and API keys of one organization.

**Authentication.** Every call sends an API key as `Authorization: Bearer <key>`. An admin
creates keys under **Settings → API keys**; each key belongs to one organization and has a
role, admin, marketer or viewer, that works like a member's: a viewer reads, a marketer also
writes contacts, templates and automations and sends, an admin also manages the connection,
members and keys. Each operation says the role it needs.

**Ids and times.** A resource's `id` is its public UUID; another organization's id, or one
that is not a UUID, is a 404. Times are ISO 8601, UTC.

**Lists** answer `{"results": [...], "next": url|null, "previous": url|null}`, newest first;
follow `next` (it carries the `cursor`); `limit` takes up to 200 (50 by default).

**Errors** answer `{"error": {"code": "...", "message": "...", "fields": {"field": ["..."]}}}`
with the status: 400 `validation_error` (naming the fields) or `parse_error`, 401
`not_authenticated`, 403 `permission_denied` (the key's role is too low), 404 `not_found`, 409
when the request clashes with the current state (its own code), 413 `request_too_large`
(a body over 2.5 MB), 429 `rate_limited` (with `Retry-After`).

**Idempotency.** The operations that say so take an `Idempotency-Key` header: the same key
with the same body answers the first answer again for 24 hours, with another body a 409.
"""

SECURITY_SCHEME = "ApiKey"
READ_ONLY_ROLE = Role.VIEWER


class ErrorDetailSerializer(serializers.Serializer[None]):
    code = serializers.CharField(help_text="What went wrong, for programs: `validation_error`.")
    message = serializers.CharField(help_text="What went wrong, in words for a person.")
    # A field named as Serializer.fields: the metaclass takes it, the property stays.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The fields at fault, each with its reasons; empty when none is.",
    )


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer[None]):
    """Every error answer of the API."""

    error = ErrorDetailSerializer()


# What each error status means, and the code it answers, as the exception handler writes it.
ERRORS: dict[int, tuple[str, str, str]] = {
    400: (
        "The request is not valid: a field or a parameter (named in `fields`), or the request "
        "itself (`bad_request`, `parse_error`).",
        "validation_error",
        "Some fields are not valid.",
    ),
    401: (
        "No API key, or one that is not valid or has been revoked.",
        "not_authenticated",
        "The API key is not valid or has been revoked.",
    ),
    403: (
        "The key's role is too low for this operation.",
        "permission_denied",
        "This needs a key with the marketer role or higher; this key is viewer.",
    ),
    404: (
        "No such object in the key's organization (or a cursor that is not valid).",
        "not_found",
        "Not found.",
    ),
    409: ("The request clashes with the current state.", "conflict", "…"),
    412: (
        "`If-Match` names a version that is no longer current: someone changed it since you "
        "read it. Nothing was changed; read it again for its new `ETag`.",
        "precondition_failed",
        "Someone changed this since you read it: read it again (its ETag is new), then make "
        "your change.",
    ),
    413: (
        "The request body is larger than the API accepts (2.5 MB).",
        "request_too_large",
        "The request body is larger than the API accepts (2621440 bytes).",
    ),
    415: (
        "The body is not in a media type this operation takes.",
        "unsupported_media_type",
        'Unsupported media type "text/plain" in request.',
    ),
    429: (
        "Too many requests with this key: `Retry-After` says how many seconds to wait.",
        "rate_limited",
        "Request was throttled. Expected available in 3 seconds.",
    ),
    502: (
        "Twilio could not be reached or did not answer: nothing was checked or saved.",
        "twilio_unreachable",
        "Twilio could not be reached. Try again in a moment.",
    ),
}


def error_response(
    status: int,
    description: str | None = None,
    *,
    code: str | None = None,
    message: str | None = None,
) -> OpenApiResponse:
    """An error answer, with an example of its body."""
    default_description, default_code, default_message = ERRORS[status]
    body = {"code": code or default_code, "message": message or default_message, "fields": {}}
    example = OpenApiExample(
        code or default_code,
        value={"error": body},
        status_codes=[status],
        response_only=True,
    )
    return OpenApiResponse(
        ErrorSerializer, description=description or default_description, examples=[example]
    )


# A body that names an object by its id (a contact, a template) another organization owns, or
# none does: a 404, as in the path.
UNKNOWN_IN_BODY = error_response(
    404, "The body names an object (by its id) that is not in the key's organization."
)


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error answers an operation has beyond those every operation has (``errors(502)``)."""
    return {status: error_response(status) for status in statuses}


def conflict(*codes: str, description: str = "") -> dict[int, OpenApiResponse]:
    """A 409, its codes named in the description."""
    named = ", ".join(f"`{code}`" for code in codes)
    text = description or ERRORS[409][0]
    return {409: error_response(409, f"{text} Codes: {named}.", code=codes[0])}


def once_conflict(*codes: str, description: str = "") -> dict[int, OpenApiResponse]:
    """The 409 of a POST that creates something once per ``Idempotency-Key``: its own codes,
    then ``idempotency_key_reused``."""
    text = f"{description or ERRORS[409][0]} Or the `Idempotency-Key` was used with another "
    return conflict(*codes, "idempotency_key_reused", description=text + "request.")


def example(value: Any, name: str = "Example", **kwargs: Any) -> OpenApiExample:
    """An answer's example (``status_codes=[202]`` for another status than 200 or 201)."""
    return OpenApiExample(name, value=value, response_only=True, **kwargs)


def request_example(value: Any, name: str = "Example", **kwargs: Any) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True, **kwargs)


# Ids and times the examples share, so that one example's contact is another's.
EXAMPLE_IDS = {
    "organization": "0b7f2a3c-55e1-4b43-9d2c-1f6a4e8b9c01",
    "member": "5d3c1b2a-8e7f-4a6b-9c0d-2e1f3a4b5c02",
    "user": "9a8b7c6d-5e4f-4a3b-8c1d-0e9f8a7b6c03",
    "api_key": "3f2e1d0c-9b8a-4765-8432-10fedcba9804",
    "connection": "6b5a4938-2716-4054-9f3e-2d1c0b9a8705",
    "contact": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e06",
    "import": "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2907",
    "consent": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e08",
    "template": "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a09",
    "message": "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c10",
    "automation": "1e2d3c4b-5a69-4788-9a6b-5c4d3e2f1a11",
    "run": "a9b8c7d6-e5f4-4a3b-8c2d-1e0f9a8b7c12",
    "launch": "d4c3b2a1-0f9e-48d7-9c6b-5a4f3e2d1c13",
}
EXAMPLE_TIME = "2026-03-02T15:04:05.123456Z"

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Any string (up to 200 characters are used): the same key with the same body gets the "
        "first answer again for 24 hours, and does the work once; with another body, a 409."
    ),
)


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The `ETag` of the version you read: a 412 instead of overwriting a change "
    "someone made since (optional; `*` matches any).",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="This version's tag, for `If-Match`.",
    response=[200],
)


def query(name: str, description: str, kind: Any = OpenApiTypes.STR, **kwargs: Any) -> Any:
    """A filter, in the query string."""
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description, **kwargs)


def _role_phrase(role: str) -> str:
    if role == Role.VIEWER:
        return "any key (viewer or higher)"
    if role == Role.ADMIN:
        return "an admin key"
    return f"a {Role(role).label.lower()} key or higher"


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema, with what every API view shares (module docstring)."""

    def needed_role(self) -> str:
        attribute = "read_role" if self.method in SAFE_METHODS else "write_role"
        role: str = getattr(self.view, attribute, Role.VIEWER)
        return role

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        needed = self.needed_role()
        role = f"**Role:** {_role_phrase(needed)}."
        text = operation.pop("description", "")
        operation = {
            "operationId": operation.pop("operationId"),
            "description": f"{text}\n\n{role}" if text else role,
            **operation,
        }
        responses = operation["responses"]
        for status in self.standard_errors(operation):
            if str(status) in responses:
                continue
            message = None
            if status == 403:
                message = f"This needs a key with the {needed} role or higher; this key is viewer."
            responses[str(status)] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                error_response(status, message=message), str(status), ["application/json"]
            )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def get_override_parameters(self) -> list[Any]:
        parameters: list[Any] = [
            OpenApiParameter(
                name,
                OpenApiTypes.UUID if name.endswith("_id") else OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="A public id." if name.endswith("_id") else "",
            )
            for name in uritemplate.variables(self.path)
        ]
        return [*parameters, *super().get_override_parameters()]

    def standard_errors(self, operation: dict[str, Any]) -> list[int]:
        # Any request may be refused as a whole (a NUL in a query parameter, a Host header
        # that is not ours), whatever the operation takes.
        statuses = [400, 401, 429]
        if self.needed_role() != READ_ONLY_ROLE:
            statuses.append(403)
        parameters = operation.get("parameters", [])
        has_path = any(p["in"] == "path" for p in parameters)
        takes_query = any(p["in"] == "query" for p in parameters)
        has_body = "requestBody" in operation
        if has_path or takes_query:  # an unknown id, or a cursor that is not valid
            statuses.append(404)
        if has_body:
            statuses += [413, 415]
        return statuses


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """``Authorization: Bearer <key>``, for ``tenants.api_auth.ApiKeyAuthentication``."""

    target_class = "tenants.api_auth.ApiKeyAuthentication"
    name = SECURITY_SCHEME

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "smsh_<prefix>_<secret>",
            "description": "An API key, made under Settings → API keys: "
            "`Authorization: Bearer <key>`.",
        }


BLANK = {"type": "string", "maxLength": 0}


def _blank_or(node: Any) -> None:
    """drf-spectacular writes a string that may be blank as ``oneOf: [<string>, <blank>]``,
    which a blank string matches twice (a format such as ``uri`` says nothing of ""), so a
    validator refuses it: ``anyOf`` says what is meant."""
    if isinstance(node, list):
        for item in node:
            _blank_or(item)
    elif isinstance(node, dict):
        if BLANK in node.get("oneOf", []):
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _blank_or(value)


# Every answer to a request with a valid key says where the key's budget stands
# (tenants.api_ratelimit); a 429 says when to try again.
RATE_HEADERS = {
    "RateLimit-Limit": "The most requests the key may send at once (its burst).",
    "RateLimit-Remaining": "How many more it may send at once, right now.",
    "RateLimit-Reset": "Seconds until its budget is whole again.",
}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "Seconds to wait before the next request.",
    }
}


def _rate_headers(result: dict[str, Any]) -> None:
    components = result.setdefault("components", {}).setdefault("headers", {})
    for name, text in RATE_HEADERS.items():
        components[name] = {"schema": {"type": "integer", "minimum": 0}, "description": text}
    refs = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_HEADERS}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if {SECURITY_SCHEME: []} not in operation.get("security", []):
                continue
            for status, response in operation["responses"].items():
                if status == "401":  # no valid key: nothing counted
                    continue
                headers = response.setdefault("headers", {})
                headers.update(refs)
                if status == "429":
                    headers.update(RETRY_AFTER)


def postprocess(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """The schema's description, kept here beside what it describes; blank strings allowed
    as meant; the rate limit's headers on every answer to a valid key."""
    result["info"]["description"] = DESCRIPTION
    _blank_or(result)
    _rate_headers(result)
    return result
