"""Fixtures of the automation tests: a connected organization, templates, a way to build and
activate an automation in one call, and the send batches the engine hands to the send task
(recorded instead of sent: these tests are about what the engine writes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connections.models import Connection
from tests.automations.date_helpers import at
from tests.automations.helpers import Enqueued
from tests.automations.launch_helpers import twilio_prices
from tests.connections.helpers import connect
from tests.messaging.helpers import Clock, unlimited


@pytest.fixture
def connection(personas: Any) -> Connection:
    return connect(personas)


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> Enqueued:
    """The message ids the send service enqueued, in place of the send task."""
    found = Enqueued()
    monkeypatch.setattr("messaging.services.sending.send_batches", found)
    unlimited(monkeypatch)
    return found


@pytest.fixture
def worked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The launch ids handed to the launch task, in place of the task."""
    found: list[int] = []
    monkeypatch.setattr("automations.tasks.work_launch.delay", found.append)
    return found


@pytest.fixture
def priced() -> Iterator[None]:
    """Twilio's Pricing API for the US and Great Britain (``launch_helpers.twilio_prices``)."""
    with twilio_prices():
        yield


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Time stands at 2026-06-01 12:00 UTC until a test moves it."""
    return Clock(monkeypatch, at(2026, 6, 1, 12, 0))


@pytest.fixture
def commits(django_capture_on_commit_callbacks: Any) -> Any:
    """Runs what waits for the commit (the schedule's tasks, the contacts' events)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
