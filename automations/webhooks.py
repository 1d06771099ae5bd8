"""``POST /webhooks/automations/<automation id>/<secret>``: an automation's incoming webhook.

The checks run cheapest first, and none of them writes: the declared size (413), the
automation and its secret (404, the same for a wrong id, a wrong secret or an organization
being deleted, so a guess learns nothing), whether it takes contacts now (409), its rate
(429 with ``Retry-After``), the size actually read (413), the JSON and its fields (400, naming
each one). Only then ``webhook_receive`` upserts and enrols. Every refusal answers the API's
error shape, ``{"error": {"code", "message", "fields"}}``, and bad input is never a 5xx.

The secret is in the path, so Django's own log lines about these requests ("Not Found: …")
would carry it: ``config.logging`` masks it like the other token-bearing paths.
"""

from __future__ import annotations

import io
import math
import secrets
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions

from automations.models import Automation
from automations.services.webhooks import (
    MAX_EVENT_ID,
    webhook_payload_clean,
    webhook_receive,
    webhook_refusal,
)
from automations.triggers.incoming_webhook import rate_of
from messaging import ratelimit
from tenants.api_base import error_body
from tenants.api_parsers import StrictJSONParser
from tenants.errors import ApplicationError

MAX_BODY = 64 * 1024


def _error(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


def _too_large() -> JsonResponse:
    return _error(413, "request_too_large", f"The body is larger than {MAX_BODY} bytes (64 KB).")


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _automation(automation_id: str, secret: str) -> Automation | None:
    """The automation this URL names, if the secret is its own."""
    try:
        key = uuid.UUID(automation_id)
    except ValueError:
        return None
    automation = (
        Automation.objects.select_related("live_version", "organization")
        .filter(public_id=key, organization__deletion_requested_at__isnull=True)
        .first()
    )
    if automation is None or not automation.webhook_secret:
        return None
    # Constant time: how much of a guessed secret is right must not show in the answer's time.
    if not secrets.compare_digest(automation.webhook_secret.encode(), secret.encode()):
        return None
    return automation


def _json(body: bytes) -> Any:
    """The body's JSON as the API reads it: strict, at most 32 levels deep, no NUL."""
    try:
        return StrictJSONParser().parse(io.BytesIO(body), "application/json", {})
    except exceptions.ParseError as error:
        raise ApplicationError(str(error.detail), code="parse_error") from None
    except exceptions.ValidationError as error:
        # A NUL in a string: named by its top-level field, or said whole for a bare value.
        if isinstance(error.detail, dict):
            fields = {str(k): [str(t) for t in v] for k, v in error.detail.items()}
            raise ApplicationError("Some fields are not valid.", fields=fields) from None
        raise ApplicationError(" ".join(str(t) for t in error.detail)) from None


@csrf_exempt
def incoming(request: HttpRequest, automation_id: str, secret: str) -> HttpResponse:
    # ``<str:…>`` in the URL, not ``<uuid:…>``: a malformed id gets this JSON 404 too.
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "Post the contact as JSON (POST).")
        response["Allow"] = "POST"
        return response
    declared = _declared_length(request)
    if declared is not None and declared > MAX_BODY:
        return _too_large()
    automation = _automation(automation_id, secret)
    if automation is None:
        return _error(
            404,
            "not_found",
            "There is no such webhook: check the URL (its secret may have been rotated).",
        )
    refusal = webhook_refusal(automation)
    if refusal is not None:
        return _error(refusal.status, refusal.code, refusal.message)
    live = automation.live_version
    rate = rate_of(live.definition["trigger"]) if live else 1
    wait = ratelimit.take(f"webhook:{automation.public_id}", rate=rate)
    if wait:
        response = _error(
            429, "rate_limited", f"At most {rate} requests a second: try again shortly."
        )
        response["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    # Never more than one byte past the limit, whatever the header said (or if it said none).
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _too_large()
    key = request.headers.get("Idempotency-Key", "").strip()
    try:
        if len(key) > MAX_EVENT_ID or "\x00" in key:  # no column holds NUL
            raise ApplicationError.for_field(
                "Idempotency-Key",
                f"An Idempotency-Key has at most {MAX_EVENT_ID} characters, none of them NUL.",
            )
        payload = webhook_payload_clean(automation, _json(body))
        received = webhook_receive(automation=automation, payload=payload, idempotency_key=key)
    except ApplicationError as error:
        return _error(error.status, error.code, error.message, error.fields)
    response = JsonResponse(received.body, status=received.status)
    if received.replayed:
        response["Idempotent-Replayed"] = "true"
    return response
