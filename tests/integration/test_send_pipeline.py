"""The whole send path for real: the send service commits a message, its on-commit dispatch
puts the task on Redis, a real Celery worker (thread pool, as the ``send`` queue runs) claims
it, takes a rate-limit slot on Redis and calls the Twilio sandbox over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
import requests
from django.conf import settings
from django.db import connection, transaction

import messaging.tasks
from config.celery import app
from connections import twilio_api
from connections.services.connections import twilio_connect
from contacts.services.contacts import contact_create
from messaging import ratelimit
from messaging.models import RANK, Status
from messaging.services.sending import message_send
from messaging.services.submit import status_callback_url
from sandbox.server import build_app
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Options
from tenants.actor import Actor
from tests.conftest import require_service
from tests.sandbox.conftest import BackgroundServer

BASE_DIR = Path(__file__).resolve().parents[2]
DEADLINE_S = 60.0
SENDER = "+14155550100"
PHONE = "+14155550123"

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def worker_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def services() -> None:
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    broker = str(settings.CELERY_BROKER_URL)
    require_service(
        "Redis (CELERY_BROKER_URL)", broker.startswith("redis") and redis_answers(broker)
    )


@pytest.fixture
def sandbox_url(services: None, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The Twilio sandbox on 127.0.0.1, with this process's Twilio seam pointed at it."""
    server = BackgroundServer(build_app(Options(callback_delay_ms=0)))
    server.start()
    # The seam keeps one HTTP client per thread: a fresh one, so no kept-alive connection to
    # an earlier test's server is reused.
    monkeypatch.setattr(twilio_api, "_local", threading.local())
    settings.TWILIO_API_BASE_URL = server.url
    settings.TWILIO_MESSAGING_BASE_URL = server.url
    # The sandbox posts status callbacks to PUBLIC_BASE_URL: keep them on 127.0.0.1, on a
    # port nobody listens on (no web server runs here; the callbacks are not under test).
    settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{free_port()}"
    yield server.url
    server.stop()


@pytest.fixture
def worker_queue(sandbox_url: str, transactional_db: None) -> Iterator[str]:
    """A real worker consuming a queue of its own, pointed at the test database and sandbox."""
    queue = f"it-send-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-P",
            "threads",
            "-c",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "TWILIO_API_BASE_URL": sandbox_url,
            "TWILIO_MESSAGING_BASE_URL": sandbox_url,
            "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
        },
    )
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def sandbox_stats(url: str) -> dict[str, Any]:
    response = requests.get(f"{url}/sandbox/stats", timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_it_sends_a_committed_message_through_a_real_worker_to_twilio(
    personas, sandbox_url, worker_queue, monkeypatch
):
    membership = personas.membership("admin")
    connected = twilio_connect(
        organization=personas.org,
        by=Actor.for_membership(membership),
        account_sid=DEFAULT_ACCOUNT_SID,
        auth_token=DEFAULT_AUTH_TOKEN,
        phone_number=SENDER,
    )
    assert connected.state == "connected"
    ratelimit.reset(f"sender:{connected.pk}")
    contact = contact_create(
        organization=personas.org, source="test", phone=PHONE, first_name="Ada", time_zone="UTC"
    )

    # The send service enqueues batches on commit with ``send_messages.delay``; this test's
    # worker consumes a queue of its own, so the task is routed there (and nowhere else).
    real_task = messaging.tasks.send_messages

    class RoutedToTestQueue:
        @staticmethod
        def delay(message_ids: list[int]) -> Any:
            return real_task.apply_async((message_ids,), queue=worker_queue)

    monkeypatch.setattr(messaging.tasks, "send_messages", RoutedToTestQueue)

    with transaction.atomic():
        message = message_send(
            organization=personas.org, contact=contact, body="Hello from a worker", source="test"
        )
        assert message.status == Status.PENDING
    message.refresh_from_db()
    assert message.enqueued_at is not None

    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.sid and RANK.get(Status(message.status), -1) >= RANK[Status.QUEUED]:
            break
        time.sleep(0.2)

    assert message.sid, f"no SID after {DEADLINE_S}s: status {message.status}"
    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert message.status not in (Status.SUPPRESSED, Status.FAILED), message.status
    assert RANK[Status(message.status)] >= RANK[Status.QUEUED], message.status
    assert message.from_number == SENDER
    assert message.attempts == 1
    assert message.submitted_at is not None

    callback = status_callback_url(message)
    assert callback == f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status/{message.public_id}"
    stats = sandbox_stats(sandbox_url)
    assert stats["creates"] == {callback: 1}
    assert stats["messages"] == 1
