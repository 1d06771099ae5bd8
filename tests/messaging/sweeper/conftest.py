"""The sweeper's tests run on a fixed clock with unlimited send slots; ``sweep`` runs one pass
inside ``django_capture_on_commit_callbacks`` so the send tasks it enqueues on commit run
(eagerly) as they would in production."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from messaging.services.sweeper import SweepResult, messages_sweep
from tests.messaging.helpers import (
    Clock,
    unlimited,
)
from tests.messaging.sweeper.helpers import T0


@pytest.fixture(autouse=True)
def _slots(monkeypatch):
    unlimited(monkeypatch)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, T0)


@pytest.fixture
def sweep(django_capture_on_commit_callbacks) -> Callable[[], SweepResult]:
    """One pass of the sweeper; the send tasks it enqueues run when it commits."""

    def run() -> SweepResult:
        with django_capture_on_commit_callbacks(execute=True):
            return messages_sweep()

    return run
