"""``GET /healthz``: does this process reach the database and the task broker?

Load balancers and orchestrators call it often and over plain HTTP (it is exempt from the SSL
redirect), so each check is cheap and bounded by a short timeout. A failure names the
component and the kind of error, never an address or a credential.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.celery import app as celery_app

CHECK_TIMEOUT_SECONDS = 3


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT_SECONDS)


def check_cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("value written was not read back")
    cache.delete(key)


def checks() -> dict[str, Callable[[], None]]:
    found: dict[str, Callable[[], None]] = {"database": check_database, "broker": check_broker}
    if settings.REDIS_URL:
        found["cache"] = check_cache
    return found


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    failing: list[str] = []
    for name, check in checks().items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            failing.append(name)
            results[name] = {"status": "error", "error": type(exc).__name__}
        else:
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
            results[name] = {"status": "ok", "ms": elapsed_ms}
    if failing:
        body = {
            "status": "error",
            "message": f"Not answering: {', '.join(failing)}.",
            "failing": failing,
            "checks": results,
        }
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ok", "checks": results})
