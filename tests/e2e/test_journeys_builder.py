"""An automation built in a browser from the automation list, at the desktop's and the phone's
width: New automation with the trigger "Tag added", a Twilio SMS step whose template is made on
the way (Create new SMS template: an emoji makes it UCS-2, and the editor counts its
segments), back in the builder with that template in the step, then Publish and Activate."""

from __future__ import annotations

import pytest

from automations.models import Automation, State
from tests.connections.helpers import connect
from tests.e2e.helpers import log_in, screenshot
from tests.e2e.test_journeys_onboarding import WIDTHS, fits

pytestmark = pytest.mark.django_db(transaction=True)

BODY = "Hi {{ first_name }} 👋 welcome aboard!"
SAMPLE = "Hi Alex 👋 welcome aboard!"  # as the sample contact, Alex Morgan, receives it


@pytest.mark.parametrize("width", WIDTHS)
def test_a_marketer_builds_and_activates_an_automation(open_page, personas, width):
    connect(personas)
    page = open_page(width=width)
    log_in(page, "marketer@a.example.com")
    page.goto("/automations/")
    assert "No automations yet" in page.inner_text("main")
    page.click("main .page-head a:text-is('New automation')")

    page.wait_for_selector("main h1:text-is('New automation')")
    page.fill("#id_name", "Welcome new leads")
    page.check("input[name=trigger_type][value=tag_added]")
    page.fill("#id_tag_added_tag", "new-lead")
    fits(page, width)
    screenshot(page, "builder-trigger")
    page.click("button:text-is('Create draft')")

    page.wait_for_selector("main h1:text-is('Welcome new leads')")
    assert "Now add its steps." in page.inner_text(".flash")
    assert page.inner_text("#trigger .flow-first") == "When the tag new-lead is added"
    page.click("#steps .add-step button:text-is('Twilio SMS')")
    step = page.locator(".step-card", has_text="Step 1 · Twilio SMS")
    step.locator("button[value=new_template]", has_text="Create new SMS template").click()

    page.wait_for_selector("main h1:text-is('New SMS template')")
    page.fill("#id_name", "Welcome aboard")
    page.fill("#id_body", BODY)
    counter = page.locator("[data-counter]")
    # The footer ("Reply STOP to opt out") is counted too: 47 of UCS-2's 70 for one segment.
    assert counter.inner_text().startswith("UCS-2 · 47 characters · 1 segment")
    culprits = page.locator("[data-culprits]")
    assert culprits.is_visible()
    assert "These characters switch the message to UCS-2" in culprits.inner_text()
    assert page.inner_text("[data-culprit-list]") == "👋"
    page.wait_for_selector(f"[data-preview] .bubble-in:has-text('{SAMPLE}')")
    assert "UCS-2 · 47 characters · 1 segment" in page.inner_text("[data-preview]")  # the server's
    fits(page, width)
    screenshot(page, "builder-new-template")
    page.click("button:text-is('Create template')")

    page.wait_for_selector(f"#step-s1 .bubble-in:has-text('{SAMPLE}')")
    template = personas.org.sms_templates.get(name="Welcome aboard")
    assert page.input_value("#id_s1-template") == str(template.public_id)
    chosen = page.locator("#id_s1-template option:checked")
    assert chosen.inner_text() == "Welcome aboard · 1 segment"
    page.click("main .lifecycle button:text-is('Publish')")
    page.wait_for_selector("text=Published version 1.")
    page.click("main .lifecycle button:text-is('Activate')")

    page.wait_for_selector("text=“Welcome new leads” is active: contacts now enter it.")
    assert page.inner_text("main .version-line .status") == "Active"
    assert "Live: version 1" in page.inner_text("main .version-line")
    fits(page, width)
    screenshot(page, "builder-active")
    automation = Automation.objects.get(name="Welcome new leads")
    assert automation.state == State.ACTIVE
    live = automation.live_version
    assert live is not None
    assert live.definition["trigger"] == {"type": "tag_added", "tag": "new-lead"}
    assert [(s["type"], s["template"]) for s in live.definition["steps"]] == [
        ("send_sms", str(template.public_id))
    ]
