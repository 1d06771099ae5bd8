from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from config.celery import app as celery_app


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Pages use the production static storage (hashed names), which needs collectstatic."""
    root = tmp_path_factory.mktemp("static")
    # A fast password hasher too: tests create many users and never attack their hashes.
    fast_hasher = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(STATIC_ROOT=root, PASSWORD_HASHERS=fast_hasher):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    """Unit tests run tasks in-process; integration tests start a real worker instead."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def client() -> Client:
    """A browser behind the TLS-terminating proxy, as in production."""
    return Client(HTTP_X_FORWARDED_PROTO="https")


@pytest.fixture
def plain_http_client() -> Client:
    return Client()


def require_service(name: str, available: bool) -> None:
    """Skip when a service is missing, except under CI, where every test must run."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} is required under CI but is not configured or not answering.")
    pytest.skip(f"{name} is not available (set its URL to run this test).")


@pytest.fixture
def personas(db):
    from tests.factories import make_personas

    return make_personas()


@pytest.fixture(autouse=True)
def _webhook_drains_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every commit asks for a webhook drain, and a drain with nothing to do ends at once
    (deployed, they ask at most twice a second and linger a second: tests/outbound)."""
    from tenants.outbound.services import events

    monkeypatch.setattr(events, "WAKE_SKIP", 0.0)
    monkeypatch.setattr(events, "DRAIN_LINGER", 0.0)
    monkeypatch.setattr(events, "_asked_at", -1.0)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttle counters and other cached state never leak from one test to the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate-limit budgets (API keys, senders) start whole in every test. On Redis they live in
    the cache's database, which ``_fresh_cache`` flushes; in-process ones are forgotten here."""
    from tenants import ratelimit

    ratelimit.shared().forget_local()
    yield
    ratelimit.shared().forget_local()


@pytest.fixture
def rsps() -> Iterator[object]:
    """Twilio (or any HTTP peer) mocked at the HTTP level; every registered call must happen."""
    import responses

    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    tmp_path_factory: pytest.TempPathFactory, django_db_modify_db_settings_parallel_suffix: None
) -> None:
    """On SQLite, tests use a database file, as the product does, not Django's shared-cache
    in-memory database: its table locks ignore the busy timeout, so two threads that each hold
    a transaction (two workers racing for a message) fail instead of waiting for each other."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.db")


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test uses DNS: every host a media URL names resolves to a public address (tests of
    the media check replace this with their own answers)."""
    from templates_sms import media

    monkeypatch.setattr(media, "resolve_host", lambda host: ["93.184.215.14"])
