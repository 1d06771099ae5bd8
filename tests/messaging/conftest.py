"""Fixtures of the messaging tests: a connected organization, a contact, unlimited send slots,
a clock under the test's control, and listeners for the signals messaging sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connections.models import Connection
from contacts import signals as contact_signals
from contacts.models import Contact
from messaging import signals
from tests.connections.helpers import connect
from tests.messaging.api_helpers import add_contact
from tests.messaging.helpers import Clock, unlimited
from tests.messaging.send_helpers import T0

Received = list[dict[str, Any]]


@pytest.fixture
def connection(personas: Any) -> Connection:
    """Organization A connected to the fixture account and number."""
    return connect(personas)


@pytest.fixture
def contact(personas: Any) -> Contact:
    """A contact of organization A (``api_helpers.PHONE``, Ada, in UTC)."""
    return add_contact(personas.org)


@pytest.fixture
def unlimited_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender's rate limit always has a slot (for tests about something else).

    Modules whose every test wants it say ``pytest.mark.usefixtures("unlimited_slots")``.
    """
    unlimited(monkeypatch)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """``timezone.now`` stopped at ``T0`` until the test advances it."""
    return Clock(monkeypatch, T0)


def _listen(signal: Any) -> Iterator[Received]:
    received: Received = []

    def receiver(sender: Any, *, signal: Any, **payload: Any) -> None:
        assert sender is None
        received.append(payload)

    signal.connect(receiver, weak=False)
    yield received
    assert signal.disconnect(receiver)


@pytest.fixture
def inbound_events() -> Iterator[Received]:
    """Every ``messaging.signals.inbound_received`` sent, as its payload."""
    yield from _listen(signals.inbound_received)


@pytest.fixture
def created_events() -> Iterator[Received]:
    """Every ``contacts.signals.contact_created`` sent, as its payload."""
    yield from _listen(contact_signals.contact_created)
