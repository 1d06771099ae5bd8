"""The API's rate limit: per API key, a burst of ``burst`` requests, then ``rate`` a second.

The defaults are ``settings.API_RATE_LIMIT`` (20 a second) and ``settings.API_BURST`` (100);
an organization may set its own (``Organization.api_rate_limit`` / ``api_burst``), which apply
to each of its keys: every key has its own budget, a GCRA budget (``tenants.ratelimit``) shared
by every web process through Redis when ``REDIS_URL`` is set. Every request with a valid key
counts, whatever its answer (a 403 or a 404 too), and is counted before the key's role is
checked. A request without a valid key is not limited here (it is a 401 at once) and its
answer carries none of the headers below.

Every answer to a request with a valid key carries the headers of the IETF draft
"RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers, the separate fields):

- ``RateLimit-Limit``: the burst, the most requests the key may send at once.
- ``RateLimit-Remaining``: how many more requests the key may send at once, right now, after
  this one (0 when the next one would be refused if sent at once).
- ``RateLimit-Reset``: whole seconds, rounded up, until the key's budget is whole again, i.e.
  until ``RateLimit-Remaining`` is back at ``RateLimit-Limit`` if the key sends nothing
  meanwhile (0 when it is whole). One request frees after ``1 / rate`` seconds; the budget is
  whole ``burst / rate`` seconds after a full burst.

Over the limit, the answer is a 429 ``rate_limited`` and the request is not handled at all;
``Retry-After`` says in whole seconds, rounded up and at least 1, when the next request will
be allowed. When Redis cannot be reached, requests are let through without the headers (and a
warning is logged): the limit protects the service, it is not worth an outage of the API.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tenants import ratelimit as gcra
from tenants.models import ApiKey, Organization

if TYPE_CHECKING:
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimit:
    """Where a key's budget stands after one request."""

    rate: int
    limit: int
    remaining: int
    reset: int
    retry_after: int | None = None
    """Set when the request was refused: whole seconds until the next one is allowed."""

    @property
    def refused(self) -> bool:
        return self.retry_after is not None

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


def api_limits(organization: Organization) -> tuple[int, int]:
    """The organization's requests per second and burst, per key (its own or the defaults)."""
    rate = organization.api_rate_limit or settings.API_RATE_LIMIT
    burst = organization.api_burst or settings.API_BURST
    return rate, burst


def _whole_seconds(microseconds: int) -> int:
    return math.ceil(microseconds / gcra.MICROSECONDS)


def api_key_budget_key(api_key: ApiKey) -> str:
    return f"ratelimit:api:{api_key.public_id}"


def api_request_take(api_key: ApiKey) -> RateLimit:
    """Counts one request of ``api_key`` against its budget, if it fits."""
    rate, burst = api_limits(api_key.organization)
    interval = gcra.microseconds(1 / rate)
    tolerance = interval * burst  # exactly ``burst`` requests at once
    outcome = gcra.shared().take(
        api_key_budget_key(api_key), intervals=[interval], tolerance=tolerance, now=time.time()
    )
    remaining = max((tolerance - outcome.ahead) // interval, 0)
    return RateLimit(
        rate=rate,
        limit=burst,
        remaining=remaining if outcome.taken else 0,
        reset=_whole_seconds(outcome.ahead),
        retry_after=None if outcome.taken else max(_whole_seconds(outcome.wait), 1),
    )


class ApiKeyRateThrottle(BaseThrottle):
    """DRF's hook for ``api_request_take``; leaves where the budget stands on the request
    (``request.rate_limit``) for ``OrganizationAPIView`` to put in the headers."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        try:
            state = api_request_take(request.auth)
        except redis.RedisError as exc:
            logger.warning("API rate limit not applied, Redis did not answer: %s", exc)
            return True
        request.rate_limit = state  # type: ignore[attr-defined]
        self.state = state
        return not state.refused

    def wait(self) -> float | None:
        return self.state.retry_after
