"""The send service refuses bad input with an error and writes no row."""

from __future__ import annotations

import pytest

from contacts.models import Contact
from messaging.services.sending import message_send
from templates_sms.services import template_create
from tenants.errors import ApplicationError
from tests.connections.helpers import connect
from tests.messaging.helpers import forms
from tests.messaging.send_helpers import (
    ALICE,
    nothing_written,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- Bad input: an error, never a row -------------------------------------------------------


@pytest.mark.parametrize("to", ["555", "not a number", "+1 415 555 01", "+1 415 555 0123 4567"])
def test_it_refuses_a_malformed_number(personas, rsps, django_capture_on_commit_callbacks, to):
    connect(personas)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ApplicationError) as caught,
    ):
        message_send(organization=personas.org, to=to, body="Hi", source="test")

    assert list(caught.value.fields) == ["to"]
    assert callbacks == []
    assert nothing_written()
    assert forms(rsps) == []


@pytest.mark.parametrize("body", ["", "   \n\t "])
def test_it_refuses_an_empty_body(personas, rsps, django_capture_on_commit_callbacks, body):
    connect(personas)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ApplicationError) as caught,
    ):
        message_send(organization=personas.org, to=ALICE, body=body, source="test")

    assert caught.value.fields == {"body": ["Write a message or choose a template."]}
    assert callbacks == []
    assert nothing_written()


def test_it_refuses_a_message_with_no_recipient(personas):
    with pytest.raises(ApplicationError) as caught:
        message_send(organization=personas.org, body="Hi", source="test")

    assert list(caught.value.fields) == ["to"]
    assert nothing_written()


def test_it_refuses_a_contact_or_template_of_another_organization(personas):
    connect(personas)
    theirs = Contact.objects.create(organization=personas.other_org, phone=ALICE, time_zone="UTC")
    their_template = template_create(organization=personas.other_org, name="T", body="Hi").template

    with pytest.raises(ApplicationError) as contact_error:
        message_send(organization=personas.org, contact=theirs, body="Hi", source="test")
    with pytest.raises(ApplicationError) as template_error:
        message_send(organization=personas.org, to=ALICE, template=their_template, source="test")

    assert list(contact_error.value.fields) == ["contact"]
    assert list(template_error.value.fields) == ["template"]
    assert nothing_written()
