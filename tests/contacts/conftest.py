from __future__ import annotations

import pytest

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
