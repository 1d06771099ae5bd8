"""A message's page (/messages/<public id>/): the text as sent, its timeline, the error
explained with what to do, Twilio's raw parameters; and the contact page's conversation
linking to it."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from contacts.models import Contact
from contacts.services.contacts import contact_create
from messaging.models import Message, MessageEvent, Status
from messaging.statuses import advice, explain
from tests.factories import page_text

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "marketer", "viewer"]
T0 = datetime.datetime(2024, 3, 4, 12, 0, 0, tzinfo=datetime.UTC)


def url(message: Message) -> str:
    return f"/messages/{message.public_id}/"


def add(personas: Any, body: str = "Hello", **fields: Any) -> Message:
    fields.setdefault("to", "+14155550123")
    fields.setdefault("status", Status.DELIVERED)
    return Message.objects.create(organization=personas.org, body=body, **fields)


def event(message: Message, status: str, second: int, **fields: Any) -> MessageEvent:
    """An event ``second`` seconds after T0."""
    made = message.events.create(status=status, **fields)
    made.at = T0 + datetime.timedelta(seconds=second)
    MessageEvent.objects.filter(pk=made.pk).update(at=made.at)
    return made


def section(text: str, heading: str) -> str:
    """The text of the card under ``heading``, up to the next card."""
    start = text.index(f">{heading}</h2>")
    return text[start : text.index("</section>", start)]


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ROLES)
def test_every_member_sees_the_message(personas, persona):
    message = add(personas, "Hello Ada")
    response = personas.client(persona).get(url(message))
    assert response.status_code == 200
    assert "Hello Ada" in page_text(response)


def test_another_organizations_message_is_a_404(personas):
    message = add(personas)
    assert personas.client("outsider").get(url(message)).status_code == 404


@pytest.mark.parametrize("key", ["not-a-uuid", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35", "123"])
def test_a_malformed_or_unknown_id_is_a_404(personas, key):
    assert personas.client("viewer").get(f"/messages/{key}/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(personas, client):
    message = add(personas)
    response = client.get(url(message))
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url(message)}"


# --- What the page shows ----------------------------------------------------------------------


def test_the_text_is_shown_as_sent_and_escaped(personas):
    body = 'Hi <b>Ada</b> & "friends",\nsee <script>alert(1)</script>'
    message = add(personas, body, encoding="GSM-7", segments=2)
    html = personas.client("viewer").get(url(message)).content.decode()
    assert "<b>Ada</b>" not in html
    assert "<script>alert(1)</script>" not in html
    assert "Hi &lt;b&gt;Ada&lt;/b&gt; &amp; &quot;friends&quot;,<br>" in html
    assert f"GSM-7 · {len(body)} characters · 2 segments" in page_text(
        personas.client("viewer").get(url(message))
    )


def test_a_unicode_single_segment_message_says_so(personas):
    message = add(personas, "Ça va ? 😀", encoding="UCS-2", segments=1)
    text = page_text(personas.client("viewer").get(url(message)))
    assert "UCS-2 · 9 characters · 1 segment" in text
    assert "1 segments" not in text


def test_the_timeline_lists_every_event_in_order_with_its_time(personas):
    message = add(personas, status=Status.FAILED, error_code=30007, error_message=explain(30007))
    # Created out of order: the page orders them by time.
    event(message, "failed", 30, error_code=30007, callback_key="SM1:failed:30007")
    event(message, "created", 0)
    event(message, "submitted", 2, params={"sid": "SM1"})
    event(message, "sent", 20, callback_key="SM1:sent")
    timeline = section(page_text(personas.client("viewer").get(url(message))), "Timeline")
    found = re.findall(r"<strong>(\w+)</strong>(.*?)<time[^>]*>([^<]*)</time>", timeline, re.S)
    assert [(status, when) for status, _, when in found] == [
        ("created", "Mar 4, 2024 12:00:00 UTC"),
        ("submitted", "Mar 4, 2024 12:00:02 UTC"),
        ("sent", "Mar 4, 2024 12:00:20 UTC"),
        ("failed", "Mar 4, 2024 12:00:30 UTC"),
    ]
    assert "error 30007" in found[-1][1]
    assert "SM1" in timeline


def test_times_are_in_the_organizations_time_zone(personas):
    personas.org.time_zone = "America/New_York"
    personas.org.save(update_fields=["time_zone"])
    message = add(personas)
    event(message, "sent", 20, callback_key="SM1:sent")
    timeline = section(page_text(personas.client("viewer").get(url(message))), "Timeline")
    assert "Mar 4, 2024 07:00:20 EST" in timeline


def test_a_message_without_events_says_so(personas):
    message = add(personas)
    assert "No events recorded." in page_text(personas.client("viewer").get(url(message)))


@pytest.mark.parametrize("code", [30007, 30034])
def test_the_error_is_explained_with_what_to_do(personas, code):
    message = add(personas, status=Status.UNDELIVERED, error_code=code, error_message=explain(code))
    card = section(page_text(personas.client("viewer").get(url(message))), f"Error {code}")
    assert explain(code) in card
    assert advice(code)
    assert f"What to do:</strong> {advice(code)}" in card
    assert f"https://www.twilio.com/docs/api/errors/{code}" in card


def test_a_delivered_message_has_no_error_card(personas):
    message = add(personas)
    text = page_text(personas.client("viewer").get(url(message)))
    assert "What to do" not in text
    assert "error-card" not in text


def test_a_message_that_needs_attention_says_so(personas):
    unsure = add(personas, status=Status.SUBMITTING, needs_attention=True)
    fine = add(personas, status=Status.SUBMITTING)
    client = personas.client("viewer")
    text = page_text(client.get(url(unsure)))
    assert "<h2>Needs attention</h2>" in text
    assert "The sweeper could not tell whether Twilio sent this message" in text
    assert "Needs attention" not in page_text(client.get(url(fine)))


def test_twilios_parameters_list_each_callbacks_raw_params(personas):
    message = add(personas, status=Status.UNDELIVERED, error_code=30034)
    event(message, "created", 0, params={"ours": "not Twilio's"})
    sent = {"MessageSid": "SM1", "MessageStatus": "sent", "To": "+14155550123"}
    event(message, "sent", 5, params=sent, callback_key="SM1:sent")
    undelivered = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30034"}
    event(message, "undelivered", 9, params=undelivered, callback_key="SM1:undelivered:30034")
    raw = section(page_text(personas.client("viewer").get(url(message))), "Twilio's parameters")
    shown = {
        summary: dict(re.findall(r'<dt>([^<]*)</dt><dd class="mono">([^<]*)</dd>', params))
        for summary, params in re.findall(r"<summary>(.*?)</summary>(.*?)</details>", raw, re.S)
    }
    # In time order; the keys in any order (PostgreSQL's jsonb keeps its own).
    assert list(shown) == ["sent · 12:00:05", "undelivered · 12:00:09"]
    assert shown == {"sent · 12:00:05": sent, "undelivered · 12:00:09": undelivered}
    assert "ours" not in raw


def test_a_received_messages_params_are_listed(personas):
    reply = add(personas, "STOP", direction="inbound", status=Status.RECEIVED)
    event(reply, Status.RECEIVED, 0, params={"Body": "STOP", "OptOutType": "STOP"})
    raw = section(page_text(personas.client("viewer").get(url(reply))), "Twilio's parameters")
    assert '<dt>OptOutType</dt><dd class="mono">STOP</dd>' in raw


def test_messages_without_callbacks_have_no_parameters_card(personas):
    message = add(personas)
    event(message, "created", 0, params={"detail": "made here"})
    assert "Twilio's parameters" not in page_text(personas.client("viewer").get(url(message)))


# --- The contact page's conversation ----------------------------------------------------------


@pytest.fixture
def ada(personas: Any) -> Contact:
    return contact_create(
        organization=personas.org, phone="+14155550123", first_name="Ada", source="ui"
    )


def test_the_conversation_links_each_message_and_the_filtered_log(personas, ada):
    sent = add(personas, "Hi Ada", contact=ada)
    reply = add(personas, "Hi back", contact=ada, direction="inbound", status=Status.RECEIVED)
    html = personas.client("viewer").get(f"/messages/contact/{ada.public_id}/").content.decode()
    assert f'<a href="{url(sent)}">Sent ' in html
    assert f'<a href="{url(reply)}">Reply ' in html
    assert f'href="/messages/?contact={ada.public_id}"' in html


def test_the_log_link_of_the_conversation_shows_only_that_contact(personas, ada):
    add(personas, "Hi Ada", contact=ada)
    add(personas, "Hi someone else")
    client = personas.client("viewer")
    text = page_text(client.get(f"/messages/?contact={ada.public_id}"))
    assert "Hi Ada" in text
    assert "Hi someone else" not in text
