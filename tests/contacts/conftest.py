from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contacts import signals
from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from tests.contacts.helpers import OTHER_PHONE, PHONE, add


@pytest.fixture
def alice(personas) -> Contact:
    return add(
        personas.org,
        PHONE,
        first_name="Alice",
        last_name="Smith",
        email="alice@example.com",
        time_zone="Europe/Paris",
        custom_fields={"plan": "gold"},
        tags=["vip"],
    )


@pytest.fixture
def bob(personas) -> Contact:
    """Opted out by a user (so a user may opt him back in)."""
    contact = add(personas.org, OTHER_PHONE, first_name="Bob", last_name="Jones", tags=["vip"])
    consent_opt_out(
        organization=personas.org,
        phone=contact.phone,
        source=ConsentSource.USER,
        user=personas.owner,
    )
    return contact


@pytest.fixture
def held_imports(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The import ids handed to the import task, in place of running it: imports stay
    queued."""
    found: list[int] = []
    monkeypatch.setattr("contacts.tasks.work_import.delay", found.append)
    return found


# --- The events tests (test_events_*.py): every signal the contacts room sends -------------

SIGNALS = (
    "contact_created",
    "contact_updated",
    "contact_deleted",
    "tag_added",
    "tag_removed",
    "opted_out",
    "opted_in",
)

Received = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def events() -> Iterator[Received]:
    """Every event sent, in order, as (signal name, payload)."""
    received: Received = []
    connected = []
    for name in SIGNALS:
        signal = getattr(signals, name)

        def receiver(sender: Any, *, signal: Any, _name: str = name, **payload: Any) -> None:
            assert sender is None
            received.append((_name, payload))

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
    yield received
    for signal, receiver in connected:
        assert signal.disconnect(receiver)
