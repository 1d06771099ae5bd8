"""Statuses move on screen without a reload: the message log and a contact's conversation."""

from __future__ import annotations

import pytest

from contacts.services.contacts import contact_create
from messaging.models import Message, Status
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("where", ["log", "contact"])
def test_a_message_reaches_delivered_on_screen_without_a_reload(open_page, personas, where):
    contact = contact_create(
        organization=personas.org, source="ui", phone="+1 415 555 0123", first_name="Ann"
    )
    message = Message.objects.create(
        organization=personas.org,
        contact=contact,
        to=contact.phone,
        body="Hi Ann",
        status=Status.SENT,
    )
    page = open_page()
    log_in(page, "viewer@a.example.com")
    page.goto("/messages/" if where == "log" else f"/contacts/{contact.public_id}/")
    part = "#message-log" if where == "log" else "#contact-messages"
    page.wait_for_selector(f"{part} >> text=Sent")
    page.evaluate("window.notReloaded = true")

    Message.objects.filter(pk=message.pk).update(status=Status.DELIVERED)

    page.wait_for_selector(f"{part} >> text=Delivered", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    # Nothing is in flight any more: the part no longer asks.
    assert page.locator(part).get_attribute("hx-trigger") is None
