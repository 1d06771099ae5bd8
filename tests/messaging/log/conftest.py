"""The message log's tests: a viewer's browser, a template, a contact, and five sample messages."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from contacts.models import Contact
from contacts.services.contacts import contact_create
from messaging.models import Direction, Status
from templates_sms.models import SmsTemplate
from tests.messaging.log.helpers import NOON, add


@pytest.fixture
def viewer(personas: Any) -> Any:
    return personas.client("viewer")


@pytest.fixture
def template(personas: Any) -> SmsTemplate:
    return SmsTemplate.objects.create(organization=personas.org, name="Welcome", body="Hi!")


@pytest.fixture
def ada(personas: Any) -> Contact:
    return contact_create(
        organization=personas.org,
        phone="+14155550123",
        first_name="Ada",
        last_name="Lovelace",
        source="ui",
    )


@pytest.fixture
def sample(personas: Any, template: SmsTemplate, ada: Contact) -> None:
    """Five messages, newest first: a … e."""
    org = personas.org

    def at(minutes: int) -> datetime.datetime:
        return NOON - datetime.timedelta(minutes=minutes)

    add(org, "a", at=at(1), template=template, contact=ada)
    add(org, "b", at=at(2), status=Status.FAILED, contact=ada, needs_attention=True)
    add(
        org,
        "c",
        at=at(3),
        status=Status.RECEIVED,
        direction=Direction.INBOUND,
        contact=ada,
        from_number=ada.phone,
    )
    add(org, "d", at=at(4))
    add(org, "e", at=at(5), status=Status.FAILED, template=template, needs_attention=True)
