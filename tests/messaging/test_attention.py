"""A person settles a message the sweeper could not (several of Twilio's messages could be
it): on the message page, marketers and above adopt one of them, send it again, or cancel."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from messaging import ratelimit
from messaging.models import Message, MessageEvent, Status
from messaging.services.sending import message_send
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.factories import page_text
from tests.messaging.helpers import message_json, messages_create

pytestmark = pytest.mark.django_db

ALICE = "+14155550123"
ONE, TWO = "SM" + "1" * 32, "SM" + "2" * 32


def fetch_url(sid: str) -> str:
    return f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/Messages/{sid}.json"


@pytest.fixture
def unsure(personas: Any, django_capture_on_commit_callbacks: Any) -> Message:
    """A message left ``submitting`` for which Twilio had two candidates."""
    connection = connect(personas)
    ratelimit.reset(f"sender:{connection.pk}")
    with django_capture_on_commit_callbacks(execute=False):
        message = message_send(organization=personas.org, to=ALICE, body="Hi", source="test")
    Message.objects.filter(pk=message.pk).update(
        status=Status.SUBMITTING, needs_attention=True, from_number=tw.NUMBER, attempts=1
    )
    message.events.create(status="needs_attention", params={"detail": "x", "sids": [ONE, TWO]})
    message.refresh_from_db()
    return message


def url(message: Message) -> str:
    return f"/messages/{message.public_id}/"


def last_event(message: Message) -> MessageEvent:
    return message.events.order_by("-at", "-pk")[0]


def test_the_page_offers_each_candidate_and_the_other_choices(personas, unsure):
    text = page_text(personas.client("marketer").get(url(unsure)))
    assert f"Twilio sent it: it is {ONE}" in text
    assert f"Twilio sent it: it is {TWO}" in text
    assert "Twilio never sent it: send it again" in text
    assert "Do not send it" in text
    assert "texts the contact twice" in text


def test_a_marketer_adopts_the_message_twilio_sent_with_its_status(personas, unsure, rsps):
    rsps.get(fetch_url(TWO), json=message_json(to=ALICE, body="Hi", sid=TWO, status="delivered"))
    response = personas.client("marketer").post(url(unsure), {"choice": f"adopt:{TWO}"})

    assert response.status_code == 302
    assert response["Location"] == url(unsure)
    unsure.refresh_from_db()
    assert (unsure.sid, unsure.status, unsure.needs_attention) == (TWO, Status.DELIVERED, False)
    event = last_event(unsure)
    assert event.status == "adopted"
    assert event.params["by"] == personas.user("marketer").get_full_name()
    assert "By " in page_text(personas.client("viewer").get(url(unsure)))


def test_sending_it_again_hands_it_to_twilio_once_more(
    personas, unsure, rsps, django_capture_on_commit_callbacks
):
    issued = messages_create(rsps)
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.client("admin").post(url(unsure), {"choice": "resend"})

    assert response.status_code == 302
    unsure.refresh_from_db()
    assert (unsure.sid, unsure.status, unsure.needs_attention) == (issued[0], Status.QUEUED, False)
    assert unsure.attempts == 2
    assert "resent" in list(unsure.events.values_list("status", flat=True))


def test_cancelling_marks_it_failed_and_sends_nothing(personas, unsure):
    response = personas.client("owner").post(url(unsure), {"choice": "cancel"})

    assert response.status_code == 302
    unsure.refresh_from_db()
    assert (unsure.status, unsure.needs_attention, unsure.sid) == (Status.FAILED, False, None)
    assert unsure.error_message.startswith("Not sent: a person chose not to send it")
    assert last_event(unsure).status == "failed"


def test_a_sid_that_was_not_a_candidate_is_refused(personas, unsure):
    before = dict(Message.objects.filter(pk=unsure.pk).values().get())
    response = personas.client("marketer").post(url(unsure), {"choice": f"adopt:SM{'9' * 32}"})

    assert response.status_code == 400
    assert "Select a valid choice." in page_text(response)
    assert dict(Message.objects.filter(pk=unsure.pk).values().get()) == before


def test_no_choice_is_refused_with_a_clear_error(personas, unsure):
    response = personas.client("marketer").post(url(unsure), {})
    assert response.status_code == 400
    assert "Choose what happened to this message." in page_text(response)


def test_twilio_unreachable_leaves_the_message_as_it_was(personas, unsure, rsps):
    rsps.get(fetch_url(ONE), body=requests.ConnectionError("refused"))
    response = personas.client("marketer").post(url(unsure), {"choice": f"adopt:{ONE}"})

    assert response.status_code == 400
    assert "Twilio could not be asked" in page_text(response)
    unsure.refresh_from_db()
    assert (unsure.status, unsure.needs_attention, unsure.sid) == (Status.SUBMITTING, True, None)


def test_a_message_already_settled_says_so(personas, unsure):
    personas.client("owner").post(url(unsure), {"choice": "cancel"})
    response = personas.client("owner").post(url(unsure), {"choice": "resend"}, follow=True)

    assert response.redirect_chain == [(url(unsure), 302)]
    assert "This message no longer needs attention." in page_text(response)
    unsure.refresh_from_db()
    assert unsure.status == Status.FAILED


def test_a_viewer_sees_the_card_but_may_not_decide(personas, unsure):
    client = personas.client("viewer")
    text = page_text(client.get(url(unsure)))
    assert "<h2>Needs attention</h2>" in text
    assert "Save decision" not in text

    assert client.post(url(unsure), {"choice": "cancel"}).status_code == 403
    unsure.refresh_from_db()
    assert unsure.needs_attention is True


def test_another_organization_cannot_decide(personas, unsure):
    assert personas.client("outsider").post(url(unsure), {"choice": "cancel"}).status_code == 404
    unsure.refresh_from_db()
    assert unsure.status == Status.SUBMITTING
