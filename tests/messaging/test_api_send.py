"""``POST /api/v1/messages/``: sending answers 202 whatever the outcome; bad input is refused."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from messaging.models import Message
from tests import twilio_mocks as tw
from tests.messaging.api_helpers import (
    CALLBACK_PREFIX,
    FIELDS,
    MESSAGES,
    OTHER_PHONE,
    PHONE,
    WRITERS,
    add_contact,
    add_template,
    error,
    parse_time,
)
from tests.messaging.helpers import forms as forms_posted
from tests.messaging.helpers import messages_create as mock_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- Sending --------------------------------------------------------------------------------


def test_it_sends_a_text_to_a_contact_and_answers_202_with_the_message(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    sids = mock_create(rsps)
    api = personas.api("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            MESSAGES, {"contact": str(contact.public_id), "body": "Your order shipped"}, "json"
        )

    assert response.status_code == 202, response.content
    data = response.json()
    assert set(data) == FIELDS
    message = Message.objects.get(organization=personas.org)
    assert data["id"] == str(message.public_id)
    assert data["direction"] == "outbound"
    assert data["contact"] == str(contact.public_id)
    assert data["to"] == PHONE
    assert data["body"] == "Your order shipped"
    assert data["status"] == "pending"
    assert data["suppressed_reason"] == ""
    assert data["needs_attention"] is False
    assert data["error_code"] is None
    assert data["segments"] == 1
    assert data["encoding"] == "GSM-7"
    assert data["source"] == "api"
    assert data["source_ref"].startswith("api-key:")
    assert data["send_after"] is None
    parse_time(data["created_at"])
    parse_time(data["updated_at"])

    [form] = forms_posted(rsps)
    assert form == {
        "To": [PHONE],
        "From": [tw.NUMBER],
        "Body": ["Your order shipped"],
        "StatusCallback": [f"{CALLBACK_PREFIX}{message.public_id}"],
    }
    assert message.sid == sids[0]
    assert message.status == "queued"
    assert message.source == "api"
    assert message.contact == contact
    assert message.from_number == tw.NUMBER


@pytest.mark.parametrize("persona", WRITERS)
def test_it_lets_every_writer_key_send(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks, persona
):
    mock_create(rsps)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api(persona).post(
            MESSAGES, {"contact": str(contact.public_id), "body": "Hi"}, "json"
        )

    assert response.status_code == 202, response.content
    assert Message.objects.get().status == "queued"
    assert len(forms_posted(rsps)) == 1


def test_it_renders_a_template_for_the_contact_with_the_footer(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    template = add_template(personas.org, "Hi {{ first_name }}, your table is ready.")

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES,
            {"contact": str(contact.public_id), "template": str(template.public_id)},
            "json",
        )

    assert response.status_code == 202, response.content
    text = "Hi Ada, your table is ready.\nReply STOP to opt out"
    assert response.json()["body"] == text
    [form] = forms_posted(rsps)
    assert form["Body"] == [text]
    assert Message.objects.get().template == template


def test_it_hands_the_media_url_to_twilio(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    media = "https://cdn.example.com/menu.jpg"

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES,
            {"contact": str(contact.public_id), "body": "Our menu", "media_url": media},
            "json",
        )

    assert response.status_code == 202, response.content
    [form] = forms_posted(rsps)
    assert form["MediaUrl"] == [media]
    assert form["Body"] == ["Our menu"]
    assert Message.objects.get().media_url == media


def test_it_keeps_a_message_with_send_after_for_later(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    later = (timezone.now() + datetime.timedelta(hours=3)).replace(microsecond=0)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES,
            {
                "contact": str(contact.public_id),
                "body": "Tomorrow's offer",
                "send_after": later.isoformat(),
            },
            "json",
        )

    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "pending"
    assert parse_time(data["send_after"]) == later
    message = Message.objects.get()
    assert message.status == "pending"
    assert message.send_after == later
    assert message.enqueued_at is None
    assert len(rsps.calls) == 0


def test_it_waits_for_the_sending_window_when_asked_to_respect_quiet_hours(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    now = timezone.now()
    opening = (now + datetime.timedelta(hours=2)).replace(second=0, microsecond=0)
    organization = personas.org
    organization.send_window_start = opening.time()
    organization.send_window_end = (opening + datetime.timedelta(hours=1)).time()
    organization.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES,
            {
                "contact": str(contact.public_id),
                "body": "Quiet please",
                "respect_quiet_hours": True,
            },
            "json",
        )

    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "pending"
    assert parse_time(data["send_after"]) == opening
    assert Message.objects.get().send_after == opening
    assert len(rsps.calls) == 0


def test_it_answers_202_with_a_suppressed_message_for_an_opted_out_number(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.USER)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES, {"contact": str(contact.public_id), "body": "Sale!"}, "json"
        )

    assert response.status_code == 202, response.content
    data = response.json()
    assert set(data) == FIELDS
    assert data["status"] == "suppressed"
    assert data["suppressed_reason"] == "opted_out"
    assert data["sid"] is None
    message = Message.objects.get()
    assert str(message.public_id) == data["id"]
    assert message.status == "suppressed"
    assert message.suppressed_reason == "opted_out"
    assert message.sid is None
    assert len(rsps.calls) == 0


def test_it_attaches_a_bare_number_to_the_contact_that_has_it(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES, {"to": "(415) 555-0123", "body": "Hello again"}, "json"
        )

    assert response.status_code == 202, response.content
    assert response.json()["contact"] == str(contact.public_id)
    assert response.json()["to"] == PHONE
    assert list(Contact.objects.filter(organization=personas.org)) == [contact]
    assert Message.objects.get().contact == contact
    [form] = forms_posted(rsps)
    assert form["To"] == [PHONE]


def test_it_creates_a_contact_for_a_new_bare_number(
    personas, connection, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES, {"to": "415.555.0124", "body": "Welcome"}, "json"
        )

    assert response.status_code == 202, response.content
    created = Contact.objects.get(organization=personas.org)
    assert created.phone == OTHER_PHONE
    assert response.json()["contact"] == str(created.public_id)
    assert Message.objects.get().contact == created
    [form] = forms_posted(rsps)
    assert form["To"] == [OTHER_PHONE]


@pytest.mark.parametrize("number", ["12", "call me", "+1 415 555 0123 999", "(000) 000-0000"])
def test_it_refuses_a_malformed_number_with_400_and_writes_nothing(
    personas, connection, rsps, django_capture_on_commit_callbacks, number
):
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(MESSAGES, {"to": number, "body": "Hi"}, "json")

    assert response.status_code == 400, response.content
    assert error(response)["fields"].get("to"), error(response)
    assert not Message.objects.exists()
    assert not Contact.objects.exists()
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "   "}])
def test_it_refuses_a_message_without_text_with_400(personas, connection, contact, rsps, body):
    response = personas.api("marketer").post(
        MESSAGES, {"contact": str(contact.public_id), **body}, "json"
    )

    assert response.status_code == 400, response.content
    assert error(response)["code"] == "validation_error"
    assert error(response)["fields"]["body"]
    assert not Message.objects.exists()


def test_it_refuses_a_message_without_recipient_with_400(personas, connection, rsps):
    response = personas.api("marketer").post(MESSAGES, {"body": "To whom?"}, "json")

    assert response.status_code == 400, response.content
    assert error(response)["fields"]["to"]
    assert not Message.objects.exists()


def test_it_answers_404_for_another_organizations_contact(personas, connection, rsps):
    theirs = add_contact(personas.other_org)

    response = personas.api("marketer").post(
        MESSAGES, {"contact": str(theirs.public_id), "body": "Hi"}, "json"
    )

    assert response.status_code == 404, response.content
    assert error(response)["code"] == "not_found"
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


def test_it_answers_404_for_another_organizations_template(personas, connection, contact, rsps):
    theirs = add_template(personas.other_org)

    response = personas.api("marketer").post(
        MESSAGES, {"contact": str(contact.public_id), "template": str(theirs.public_id)}, "json"
    )

    assert response.status_code == 404, response.content
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0
