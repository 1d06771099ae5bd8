"""The sweeper's tests run on a fixed clock (``clock``, from tests/messaging/conftest.py) with
unlimited send slots; ``sweep`` runs one pass inside ``django_capture_on_commit_callbacks`` so
the send tasks it enqueues on commit run (eagerly) as they would in production."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from messaging.services.sweeper import SweepResult, messages_sweep


@pytest.fixture(autouse=True)
def _slots(unlimited_slots: None) -> None:
    """Every sweeper test has unlimited send slots."""


@pytest.fixture
def sweep(django_capture_on_commit_callbacks) -> Callable[[], SweepResult]:
    """One pass of the sweeper; the send tasks it enqueues run when it commits."""

    def run() -> SweepResult:
        with django_capture_on_commit_callbacks(execute=True):
            return messages_sweep()

    return run
