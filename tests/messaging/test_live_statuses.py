"""Pages that show messages keep themselves live while a status may still move, and stop
asking once nothing can: the log, a message's page, a contact's conversation."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from contacts.services.contacts import contact_create
from messaging.models import IN_FLIGHT_FOR, Message, Status

pytestmark = pytest.mark.django_db

POLLING = 'hx-trigger="every 3s"'


@pytest.fixture
def contact(personas):
    return contact_create(organization=personas.org, source="ui", phone="+1 415 555 0123")


def message(personas, contact, status: str, **fields) -> Message:
    return Message.objects.create(
        organization=personas.org,
        contact=contact,
        to=contact.phone,
        body="Hi",
        status=status,
        **fields,
    )


def pages(contact, message: Message) -> dict[str, str]:
    return {
        "log": "/messages/",
        "message": f"/messages/{message.public_id}/",
        "conversation": f"/messages/contact/{contact.public_id}/",
    }


LIVE_PART = {"log": "message-log", "message": "message-page", "conversation": "contact-messages"}


@pytest.mark.parametrize("status", [Status.PENDING, Status.ACCEPTED, Status.QUEUED, Status.SENT])
@pytest.mark.parametrize("page", list(LIVE_PART))
def test_a_message_in_flight_keeps_the_page_polling_itself(personas, contact, status, page):
    sent = message(personas, contact, status)
    path = pages(contact, sent)[page]

    html = personas.client("viewer").get(path).content.decode()

    part = LIVE_PART[page]
    assert f'id="{part}" hx-get="{path}" hx-select="#{part}" {POLLING}' in html


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Status.DELIVERED},
        {"status": Status.UNDELIVERED, "error_code": 30003},
        {"status": Status.FAILED, "error_code": 30034},
        {"status": Status.SUPPRESSED, "suppressed_reason": "opted_out"},
        {"status": Status.SENT, "needs_attention": True},
        {"status": Status.RECEIVED, "direction": "inbound"},
    ],
    ids=["delivered", "undelivered", "failed", "suppressed", "needs-attention", "received"],
)
@pytest.mark.parametrize("page", list(LIVE_PART))
def test_nothing_in_flight_and_the_page_stops_asking(personas, contact, fields, page):
    settled = message(personas, contact, **fields)

    response = personas.client("viewer").get(pages(contact, settled)[page])

    assert response.status_code == 200
    assert f'id="{LIVE_PART[page]}"' in response.content.decode()
    assert POLLING not in response.content.decode()


def test_a_message_due_later_or_a_day_old_is_not_polled_for(personas, contact):
    later = message(
        personas, contact, Status.PENDING, send_after=timezone.now() + datetime.timedelta(hours=8)
    )
    old = message(personas, contact, Status.SENT)
    Message.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - IN_FLIGHT_FOR - datetime.timedelta(minutes=1)
    )
    old.refresh_from_db()

    assert not later.in_flight
    assert not old.in_flight
    html = personas.client("viewer").get("/messages/").content.decode()
    assert POLLING not in html


def test_the_logs_poll_has_the_status_counts_count_again(personas, contact):
    message(personas, contact, Status.DELIVERED)  # the poll that finds it settled too
    client = personas.client("viewer")

    page = client.get("/messages/?direction=outbound")
    polled = client.get("/messages/?direction=outbound", headers={"HX-Request": "true"})

    assert "HX-Trigger" not in page.headers
    assert polled.headers["HX-Trigger"] == "message-log-polled"
    counts = '"/messages/counts/?direction=outbound" hx-trigger="message-log-polled from:body"'
    assert f"hx-get={counts}" in page.content.decode()
