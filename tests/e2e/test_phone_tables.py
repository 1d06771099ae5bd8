"""On a phone, tables drop their third column, but an automation's page keeps what its tables
are for: the funnel's Sent and where each enrolment stands (its version goes instead)."""

from __future__ import annotations

import pytest

from automations.services.enrolment import contact_enrol
from tests.automations.helpers import active, contact, send, template
from tests.connections.helpers import connect
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def cells(row) -> list[str]:
    """The row's cells a person sees, in order."""
    return [cell.inner_text() for cell in row.locator("th, td").all() if cell.is_visible()]


def test_on_a_phone_an_automation_says_where_each_enrolment_stands(
    open_page, personas, monkeypatch
):
    connect(personas)
    # The Welcome is left pending: what is on screen is the engine's record, not Twilio's.
    monkeypatch.setattr("messaging.services.sending.send_batches", lambda ids, **kw: None)
    steps = [
        send(template(personas), respect_quiet_hours=False),
        {"id": "s2", "type": "wait", "duration": {"hours": 1}},
    ]
    automation = active(personas, trigger={"type": "tag_added", "tag": "new-lead"}, steps=steps)
    contact_enrol(
        automation=automation, contact_id=contact(personas).pk, key="event-1", source="ui"
    )
    page = open_page(width=390)
    log_in(page, "viewer@a.example.com")
    page.goto(f"/automations/{automation.public_id}/")

    assert cells(page.locator("table.runs thead tr")) == ["WHEN", "CONTACT", "WHERE IT STANDS"]
    _when, who, where = cells(page.locator("table.runs tbody tr"))
    assert (who, where.splitlines()[0]) == ("Ada", "Waiting at step s2")
    funnel = page.locator("table.funnel")
    assert cells(funnel.locator("thead tr"))[:4] == ["STEP", "ENTERED", "SENT", "DELIVERED"]
    assert cells(funnel.locator("tr[data-step=s1]"))[:3] == ["1. SEND WELCOME", "1", "1"]
    assert cells(funnel.locator("tr[data-step=s2]")) == [
        "2. WAIT 1 HOUR\n1 WAITING HERE NOW",
        "1",
        "—",
    ]
