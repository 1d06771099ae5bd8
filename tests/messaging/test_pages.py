"""Sending from the browser: a contact's "Send SMS" page, and the Connection Center's test
send. Both go through the send service and on to Twilio (mocked at the HTTP level)."""

from __future__ import annotations

from typing import Any

import pytest

from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from contacts.services.contacts import contact_create
from messaging.models import Message
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create
from tenants.models import Organization
from tests import twilio_mocks as tw
from tests.factories import page_text
from tests.messaging.helpers import forms as forms_posted
from tests.messaging.helpers import messages_create as mock_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]

CALLBACK_PREFIX = "https://hub.example.com/webhooks/twilio/status/"
TEST_SEND = "/messages/test/"
TWILIO_PAGE = "/connections/twilio/"
PHONE = "+14155550123"
QUEUED = "Sent to Twilio's queue."
OPTED_OUT = "Not sent: the number opted out."
NOTHING_TO_SEND = "Choose a template or write a message."


# --- Builders -------------------------------------------------------------------------------


def add_contact(organization: Organization, phone: str = PHONE, first_name: str = "Ada") -> Contact:
    return contact_create(
        organization=organization,
        source="test",
        phone=phone,
        first_name=first_name,
        last_name="Lovelace",
        time_zone="UTC",
    )


def add_template(organization: Organization, name: str, body: str) -> SmsTemplate:
    return template_create(organization=organization, name=name, body=body).template


def send_url(contact: Contact | str) -> str:
    key = contact.public_id if isinstance(contact, Contact) else contact
    return f"/messages/send/{key}/"


def contact_url(contact: Contact) -> str:
    return f"/contacts/{contact.public_id}/"


def follow(client: Any, response: Any) -> str:
    """The text of the page a redirect leads to (where the flash message shows)."""
    assert response.status_code == 302, response.content
    return page_text(client.get(response["Location"]))


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture
def contact(personas: Any) -> Contact:
    return add_contact(personas.org)


# --- The contact page's link ----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "admin", "marketer"])
def test_it_offers_writers_to_send_sms_from_the_contact_page(personas, contact, persona):
    response = personas.client(persona).get(contact_url(contact))

    assert response.status_code == 200
    text = page_text(response)
    assert "Send SMS" in text
    assert f'href="{send_url(contact)}"' in text


def test_it_offers_no_send_link_to_a_viewer(personas, contact):
    response = personas.client("viewer").get(contact_url(contact))

    assert response.status_code == 200
    text = page_text(response)
    assert "Ada Lovelace" in text
    assert f'href="{send_url(contact)}"' not in text
    assert "Send SMS" not in text


def test_it_offers_no_send_link_for_an_opted_out_contact(personas, contact):
    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.USER)

    response = personas.client("marketer").get(contact_url(contact))

    assert response.status_code == 200
    text = page_text(response)
    assert "opted out" in text
    assert f'href="{send_url(contact)}"' not in text
    assert "Send SMS" not in text


# --- The send page --------------------------------------------------------------------------


def test_it_shows_the_send_form_with_the_organizations_templates(personas, contact):
    welcome = add_template(personas.org, "Welcome", "Hi {{ first_name }}!")
    reminder = add_template(personas.org, "Reminder", "See you soon")
    theirs = add_template(personas.other_org, "Their secret template", "Not yours")

    response = personas.client("marketer").get(send_url(contact))

    assert response.status_code == 200
    text = page_text(response)
    assert "Send SMS to Ada Lovelace" in text
    assert PHONE in text
    assert 'name="template"' in text
    assert 'name="body"' in text
    assert f'value="{welcome.public_id}"' in text
    assert f'value="{reminder.public_id}"' in text
    assert ">Welcome<" in text
    assert ">Reminder<" in text
    assert str(theirs.public_id) not in text
    assert "Their secret template" not in text


def test_it_sends_a_template_rendered_for_the_contact(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    sids = mock_create(rsps)
    template = add_template(personas.org, "Welcome", "Hi {{ first_name }}, welcome aboard!")
    client = personas.client("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_url(contact), {"template": str(template.public_id)})

    assert response.status_code == 302, response.content
    assert response["Location"] == contact_url(contact)
    message = Message.objects.get()
    text = "Hi Ada, welcome aboard!\nReply STOP to opt out"
    assert message.source == "ui"
    assert message.source_ref == f"user:{personas.marketer.public_id}"
    assert message.contact == contact
    assert message.template == template
    assert message.body == text
    assert message.sid == sids[0]
    assert message.status == "queued"
    assert forms_posted(rsps) == [
        {
            "To": [PHONE],
            "From": [tw.NUMBER],
            "Body": [text],
            "StatusCallback": [f"{CALLBACK_PREFIX}{message.public_id}"],
        }
    ]
    assert QUEUED in follow(client, response)


def test_it_sends_free_text(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    client = personas.client("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_url(contact), {"template": "", "body": "  See you at 6  "})

    assert response.status_code == 302, response.content
    assert response["Location"] == contact_url(contact)
    message = Message.objects.get()
    assert message.source == "ui"
    assert message.template is None
    assert message.body == "See you at 6"
    assert message.status == "queued"
    [form] = forms_posted(rsps)
    assert form == {
        "To": [PHONE],
        "From": [tw.NUMBER],
        "Body": ["See you at 6"],
        "StatusCallback": [f"{CALLBACK_PREFIX}{message.public_id}"],
    }
    assert QUEUED in follow(client, response)


def test_it_does_not_send_to_an_opted_out_contact(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.USER)
    client = personas.client("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_url(contact), {"body": "Sale today"})

    assert response.status_code == 302, response.content
    assert response["Location"] == contact_url(contact)
    message = Message.objects.get()
    assert message.status == "suppressed"
    assert message.suppressed_reason == "opted_out"
    assert message.source == "ui"
    assert len(rsps.calls) == 0
    text = follow(client, response)
    assert OPTED_OUT in text
    assert QUEUED not in text


def test_it_asks_for_a_template_or_a_text(personas, connection, contact, rsps):
    response = personas.client("marketer").post(send_url(contact), {"template": "", "body": "  "})

    assert response.status_code == 400
    assert NOTHING_TO_SEND in page_text(response)
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


def test_it_refuses_a_template_of_another_organization(personas, connection, contact, rsps):
    theirs = add_template(personas.other_org, "Theirs", "Not yours")

    response = personas.client("marketer").post(
        send_url(contact), {"template": str(theirs.public_id)}
    )

    assert response.status_code == 400
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_viewer_may_not_send_from_the_contact_page(personas, connection, contact, rsps, method):
    client = personas.client("viewer")

    if method == "get":
        response = client.get(send_url(contact))
    else:
        response = client.post(send_url(contact), {"body": "Hi"})

    assert response.status_code == 403
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_404_for_a_contact_of_another_organization(personas, connection, rsps, method):
    theirs = add_contact(personas.other_org)
    client = personas.client("marketer")

    if method == "get":
        response = client.get(send_url(theirs))
    else:
        response = client.post(send_url(theirs), {"body": "Hi"})

    assert response.status_code == 404
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


# --- The Connection Center's test send ------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_it_shows_the_test_send_form_to_admins(personas, connection, persona):
    response = personas.client(persona).get(TEST_SEND)

    assert response.status_code == 200
    text = page_text(response)
    assert "Send a test SMS" in text
    assert 'name="to"' in text
    assert 'name="body"' in text


@pytest.mark.parametrize("persona", ["marketer", "viewer"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_admins_may_send_a_test_message(personas, connection, rsps, persona, method):
    client = personas.client(persona)

    if method == "get":
        response = client.get(TEST_SEND)
    else:
        response = client.post(TEST_SEND, {"to": "(415) 555-0123", "body": "Test"})

    assert response.status_code == 403
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_it_sends_a_test_message_to_a_typed_number(
    personas, connection, rsps, django_capture_on_commit_callbacks, persona
):
    sids = mock_create(rsps)
    client = personas.client(persona)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TEST_SEND, {"to": "(415) 555-0123", "body": "Does it work?"})

    assert response.status_code == 302, response.content
    assert response["Location"] == TWILIO_PAGE
    message = Message.objects.get()
    assert message.source == "test"
    assert message.source_ref == f"user:{personas.user(persona).public_id}"
    assert message.to == PHONE
    assert message.contact is None
    assert message.body == "Does it work?"
    assert message.sid == sids[0]
    assert message.status == "queued"
    assert forms_posted(rsps) == [
        {
            "To": [PHONE],
            "From": [tw.NUMBER],
            "Body": ["Does it work?"],
            "StatusCallback": [f"{CALLBACK_PREFIX}{message.public_id}"],
        }
    ]
    assert f"Test message to {PHONE}: {QUEUED}" in follow(client, response)


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("12", "too short for a phone number"),
        ("call me", "A phone number has only digits"),
        ("(000) 000-0000", "is not a valid number"),
    ],
)
def test_it_refuses_a_malformed_test_number(personas, connection, rsps, number, words):
    response = personas.client("admin").post(TEST_SEND, {"to": number, "body": "Test"})

    assert response.status_code == 400
    assert words in page_text(response)
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0
