"""A real Celery worker process, on Redis, against the test database."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from config.celery import app
from tenants.tasks import sessions_clear_expired
from tests.conftest import require_service

BASE_DIR = Path(__file__).resolve().parents[2]
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


@pytest.fixture
def worker_queue():
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    broker = str(settings.CELERY_BROKER_URL)
    require_service(
        "Redis (CELERY_BROKER_URL)", broker.startswith("redis") and redis_answers(broker)
    )
    # A queue of its own, so no other worker on the same Redis takes the task.
    queue = f"it-{uuid.uuid4().hex[:8]}"
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
            "prefork",
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": worker_database_url()},
    )
    app.conf.task_always_eager = False
    yield queue
    worker.terminate()
    worker.wait(timeout=30)


def test_a_real_worker_runs_a_task_against_the_test_database(worker_queue):
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(days=1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + timedelta(days=1))

    sessions_clear_expired.apply_async(queue=worker_queue)

    deadline = time.monotonic() + 60
    while Session.objects.filter(session_key="old").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def sessions_opened() -> int:
    """PostgreSQL sessions ever opened on the test database (PostgreSQL 14 and later)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def clear_in_worker(queue: str) -> None:
    """One task in the worker, waited for: it deletes an expired session made for it."""
    key = f"old-{uuid.uuid4().hex[:8]}"
    expired = timezone.now() - timedelta(days=1)
    Session.objects.create(session_key=key, session_data="", expire_date=expired)
    sessions_clear_expired.apply_async(queue=queue)
    deadline = time.monotonic() + 60
    while Session.objects.filter(session_key=key).exists():
        assert time.monotonic() < deadline, "the worker did not run the task"
        time.sleep(0.1)


def test_a_worker_keeps_its_database_connection_from_task_to_task(worker_queue):
    clear_in_worker(worker_queue)
    # The statistics collector reports with a delay of up to half a second.
    time.sleep(1.0)
    before = sessions_opened()

    for _ in range(10):
        clear_in_worker(worker_queue)
    time.sleep(1.0)

    # Ten tasks, the same connection: at most one more (a recycle), never one per task.
    assert sessions_opened() - before <= 1
