"""What the page benchmarks share: Django set up for a scratch database, a signed-in browser,
and the median time and query count of rendering a page."""

from __future__ import annotations

import os
import platform
import statistics
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleS0=")
os.environ.setdefault("EMAIL_URL", "locmem://")  # benchmarks send no e-mail
# The pages are asked as through docker-compose's TLS proxy (X-Forwarded-Proto: https), which
# the app believes only behind a trusted proxy.
os.environ.setdefault("TRUSTED_PROXY_COUNT", "1")

import django

django.setup()
# The app's own static files are not collected for a benchmark; WhiteNoise says so once.
warnings.filterwarnings("ignore", message="No directory at")

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tenants.models import User  # noqa: E402

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: this measures PostgreSQL.")


@contextmanager
def signed_in(user: User) -> Iterator[Client]:
    """A browser behind the TLS proxy, signed in as ``user``."""
    with override_settings(STORAGES=STORAGES, ALLOWED_HOSTS=["testserver"]):
        client = Client(HTTP_X_FORWARDED_PROTO="https")
        client.force_login(user)
        yield client


def machine() -> str:
    version = connection.cursor().connection.info.server_version // 10000
    processor = platform.processor() or platform.machine()
    return f"machine: {os.cpu_count()} cores, {processor}, PostgreSQL {version}"


def measure(client: Client, url: str, runs: int) -> tuple[float, int]:
    """Median milliseconds of ``runs`` renders after 3 warm-ups, and the queries of one."""
    for _ in range(3):
        client.get(url)
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        queries = len(captured)
    return statistics.median(times), queries


def report(client: Client, pages: list[tuple[str, str]], runs: int, target_ms: float) -> None:
    """Prints each page's median and queries, the slowest against the target, and whether
    the number of queries stayed the same."""
    print(machine())
    worst = 0.0
    counts = set()
    for label, url in pages:
        median, queries = measure(client, url, runs)
        worst = max(worst, median)
        counts.add(queries)
        print(f"{label:<22} {median:7.1f} ms  {queries} queries  {url[:70]}")
    under = target_ms / worst
    print(f"slowest median: {worst:.1f} ms ({under:.1f}x under the {target_ms:.0f} ms target)")
    print(f"queries per page: {sorted(counts)} (constant whatever the data)")
