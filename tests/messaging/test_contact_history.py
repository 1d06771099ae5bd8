"""The contact page's message history, served by messaging as a fragment."""

import pytest

from contacts.services.contacts import contact_create
from messaging.models import Message, Status
from messaging.services.sending import message_send
from tests.factories import page_text

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "marketer", "viewer"]


@pytest.fixture
def contact(personas):
    return contact_create(organization=personas.org, source="ui", phone="+1 415 555 0123")


def url(contact) -> str:
    return f"/messages/contact/{contact.public_id}/"


@pytest.mark.parametrize("persona", ROLES)
def test_it_shows_every_member_the_contacts_messages(personas, contact, persona):
    message_send(organization=personas.org, contact=contact, body="Hello <b>you</b>", source="ui")
    response = personas.client(persona).get(url(contact))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello &lt;b&gt;you&lt;/b&gt;" in html
    assert "<b>you</b>" not in html
    # No Twilio connection in this organization: the send service suppressed it, and says why.
    assert "Suppressed" in html
    assert "No working Twilio connection" in html


def test_it_reads_as_a_conversation_oldest_first_with_replies_and_events(personas, contact):
    older = Message.objects.create(
        organization=personas.org,
        contact=contact,
        to=contact.phone,
        body="first",
        status=Status.DELIVERED,
    )
    Message.objects.create(
        organization=personas.org,
        contact=contact,
        to="+14155550100",
        body="STOP",
        direction="inbound",
        status=Status.RECEIVED,
    )
    older.events.create(status="delivered")
    text = page_text(personas.client("viewer").get(url(contact)))
    assert text.index("first") < text.index("STOP")
    assert "Reply" in text
    assert "delivered" in text


def test_it_says_when_there_are_no_messages(personas, contact):
    text = page_text(personas.client("viewer").get(url(contact)))
    assert "No messages to or from this contact yet." in text


def test_another_organizations_contact_is_a_404(personas, contact):
    assert personas.client("outsider").get(url(contact)).status_code == 404
    assert personas.client("owner").get("/messages/contact/not-a-uuid/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, contact):
    response = client.get(url(contact))
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url(contact)}"


def test_the_contact_page_points_at_the_fragment(personas, contact):
    html = personas.client("viewer").get(f"/contacts/{contact.public_id}/").content.decode()
    assert f'data-fragment="{url(contact)}"' in html
