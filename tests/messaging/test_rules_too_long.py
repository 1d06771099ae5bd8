"""The send rule about length: a text over 1600 characters once rendered is suppressed."""

from __future__ import annotations

import pytest

from messaging.models import Status, SuppressedReason
from templates_sms.services import template_create
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    make_contact,
    messages_create,
    send_now,
)
from tests.messaging.send_helpers import (
    ALICE,
    assert_suppressed,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- Too long -------------------------------------------------------------------------------


def test_it_suppresses_a_text_over_1600_characters(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="a" * 1601)

    assert_suppressed(message, SuppressedReason.TOO_LONG)
    assert message.body == "a" * 1601
    assert forms(rsps) == []


def test_it_sends_a_text_of_exactly_1600_characters(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_create(rsps)

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="a" * 1600)

    assert message.status == Status.QUEUED
    assert forms(rsps) == [expected_form(message, to=ALICE, body="a" * 1600)]


def test_it_suppresses_a_template_whose_rendered_text_is_over_1600_characters(
    personas, rsps, django_capture_on_commit_callbacks
):
    """The template itself fits; the contact's name and the opt-out footer push it over."""
    connect(personas)
    alice = make_contact(personas, ALICE, first_name="Alexandra")
    body = "Hi {{ first_name }} " + "b" * 1570
    template = template_create(organization=personas.org, name="Long", body=body).template
    assert len(template.body) <= 1600

    message = send_now(
        django_capture_on_commit_callbacks, personas, contact=alice, template=template
    )

    assert_suppressed(message, SuppressedReason.TOO_LONG)
    assert message.body == f"Hi Alexandra {'b' * 1570}\nReply STOP to opt out"
    assert len(message.body) == 1605
    assert forms(rsps) == []
