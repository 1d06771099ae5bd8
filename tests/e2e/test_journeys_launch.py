"""A manual launch in a browser: Run now, the preflight with its cost at the prices Twilio's
Pricing API serves (mocked), Send, and the launch's progress to the end; at the desktop's and
the phone's width, each step ending on a screenshot."""

from __future__ import annotations

import pytest

from automations.models import Launch, LaunchState
from messaging.models import Message
from tests.automations.launch_helpers import manual, twilio_prices
from tests.connections.helpers import connect
from tests.e2e.helpers import log_in, screenshot
from tests.messaging.helpers import make_contact

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_marketer_runs_an_automation_for_everyone_after_its_preflight(
    open_page, personas, monkeypatch, width
):
    connect(personas)
    automation = manual(personas, name="Spring sale")
    for n in range(3):
        make_contact(personas, f"+1415555{n:04d}", first_name=f"P{n}")
    # The messages are left pending: this journey ends where the send workers' begins.
    monkeypatch.setattr("messaging.services.sending.send_batches", lambda ids, **kw: None)
    page = open_page(width=width)
    log_in(page, "marketer@a.example.com")
    page.goto(f"/automations/{automation.public_id}/")

    with twilio_prices():
        page.locator("main a", has_text="Run now").first.click()
        page.check("input[name=who][value=all]")
        page.click("button:text-is('Check the figures')")
        page.wait_for_selector("text=Estimated cost")
        figures = page.inner_text("main")
        assert "3 would enter the automation" in figures
        assert "$0.02 USD" in figures  # 3 segments at the US price of 0.0083
        screenshot(page, "launch-preflight")
        page.click("button:text-is('Send to 3 contacts')")

    page.wait_for_selector("text=Run now started for the 3 contacts of the audience")
    page.wait_for_selector("text=3 of 3 (100%)", state="attached")
    assert page.evaluate("document.documentElement.scrollWidth") == width
    screenshot(page, "launch-done")
    launch = Launch.objects.get()
    assert (launch.state, launch.enrolled) == (LaunchState.COMPLETED, 3)
    assert Message.objects.filter(source_ref=str(automation.public_id)).count() == 3
