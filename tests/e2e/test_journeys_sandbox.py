"""Journeys through the Twilio sandbox, served for real, whose webhooks (status callbacks,
inbound texts) reach the live server, at the desktop's and the phone's width: a tag added on a
contact's page sends the automation's Welcome, which the message log watches reach Delivered;
and STOP typed on the sandbox's phones page opts the contact out, so the automation's next
step never sends, and the pages say why."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from automations.models import AutomationRun, Outcome, Reason, RunState
from automations.tasks import advance_due_runs
from contacts.models import OPT_OUT_TAG
from contacts.services.tags import contact_tags_add
from messaging.models import Message, Status
from tests.automations.helpers import active, contact, ledger, send, template
from tests.e2e.helpers import log_in, screenshot
from tests.e2e.test_journeys_onboarding import WIDTHS, fits
from tests.e2e.test_phone_tables import cells
from tests.live_hub import HubFactory, live_hub, sandbox_factory
from tests.sandbox.conftest import wait_until

__all__ = ["live_hub", "sandbox_factory"]  # the fixtures, used here too

pytestmark = pytest.mark.django_db(transaction=True)

NEW_LEAD = {"type": "tag_added", "tag": "new-lead"}
PHONE = "+14155550101"
WELCOME = "Welcome Ada!"  # the Welcome template, as Ada receives it
# Each of a text's statuses (queued, sent, delivered) comes this long after the one before.
CALLBACK_DELAY_MS = 800


def add_tag(page, name: str) -> None:
    """Through the contact page's tag form, as a person does."""
    page.fill("#id_name", name)
    page.click("form[action$='/tags/'] button:text-is('Add')")
    page.wait_for_selector(f".flash >> text=Tagged “{name}”.")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_tagged_contact_gets_the_welcome_and_the_log_shows_delivered_without_a_reload(
    open_page, personas, live_hub: HubFactory, width
):
    live_hub(personas.org.slug, callback_delay_ms=CALLBACK_DELAY_MS)
    welcome = template(personas)
    active(personas, trigger=NEW_LEAD, steps=[send(welcome, respect_quiet_hours=False)])
    ada = contact(personas, PHONE)
    page = open_page(width=width)
    log_in(page, "marketer@a.example.com")
    page.goto(f"/contacts/{ada.public_id}/")
    assert "No tags." in page.inner_text("main")

    add_tag(page, "new-lead")
    assert page.locator(".tag-list .tag").all_inner_texts() == ["new-lead"]
    # Sent to Twilio while the tag was added: the contact's messages list it at once.
    page.wait_for_selector(f"#contact-messages >> text={WELCOME}")
    fits(page, width)
    screenshot(page, "journey-tagged")

    page.goto("/messages/")
    row = page.locator("#message-log tbody tr", has_text=WELCOME)
    row.wait_for()
    status = row.locator(".message-status .status")
    assert status.inner_text() in {"Queued", "Sent"}  # still on its way
    assert page.locator("#message-log").get_attribute("hx-trigger") == "every 3s"
    page.evaluate("window.notReloaded = true")

    page.wait_for_selector("#message-log .message-status .status:text-is('Delivered')")
    # The counts above the log count again with it.
    page.wait_for_selector(".counts .status:text-is('Delivered')")
    assert page.inner_text(".counts").split() == ["All", "1", "Delivered", "1"]
    assert page.evaluate("window.notReloaded") is True
    # Nothing is in flight any more: the log no longer asks.
    assert page.locator("#message-log").get_attribute("hx-trigger") is None
    assert f"Ada\n{PHONE}" in row.inner_text()
    fits(page, width)
    screenshot(page, "journey-delivered")
    message = Message.objects.get(contact=ada)
    assert (message.status, message.to, message.template) == (Status.DELIVERED, PHONE, welcome)


@pytest.mark.parametrize("width", WIDTHS)
def test_stop_on_the_sandbox_phones_page_opts_out_and_the_next_step_is_suppressed(
    open_page, personas, live_hub: HubFactory, width
):
    sandbox = live_hub(personas.org.slug)
    follow_up = template(personas, "Follow-up", "Still keen, {{ first_name }}?")
    steps = [
        send(template(personas), "s1", respect_quiet_hours=False),
        {"id": "s2", "type": "wait", "duration": {"hours": 1}},
        send(follow_up, "s3", respect_quiet_hours=False),
    ]
    automation = active(personas, trigger=NEW_LEAD, steps=steps)
    ada = contact(personas, PHONE)
    contact_tags_add(contact=ada, names=["new-lead"], source="ui")
    welcome = Message.objects.get(contact=ada)
    wait_until(
        lambda: Message.objects.filter(pk=welcome.pk, status=Status.DELIVERED).exists(),
        what="the Welcome delivered",
    )
    run = AutomationRun.objects.get(contact=ada)
    assert (run.state, run.step_id) == (RunState.WAITING, "s2")

    page = open_page(width=width)
    page.goto(f"{sandbox.url}/sandbox/")
    phone = page.locator(f"#phone-{PHONE[1:]}")
    assert WELCOME in phone.locator(".thread").inner_text()
    phone.locator("textarea").fill("STOP")
    phone.locator("button:text-is('Send')").click()
    # The sandbox posted the text to the live server before it showed the page again.
    phone.locator(".bubble.out", has_text="STOP").wait_for()
    assert "you sent" in phone.locator(".bubble.out").inner_text()
    fits(page, width)
    screenshot(page, "journey-stop-phone")

    log_in(page, "marketer@a.example.com")
    page.goto(f"/contacts/{ada.public_id}/")
    assert sorted(page.locator(".tag-list .tag").all_inner_texts()) == [OPT_OUT_TAG, "new-lead"]
    assert "opted out" in page.inner_text(".page-head")
    assert "The person replied STOP: only they can opt back in" in page.inner_text("main")
    page.wait_for_selector("#contact-messages .inbound .bubble-in:text-is('STOP')")
    fits(page, width)
    screenshot(page, "journey-stop-contact")

    # The hour passes (the wait's end moved into the past) and the beat's pass runs.
    AutomationRun.objects.filter(pk=run.pk).update(
        due_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    advance_due_runs()
    assert list(Message.objects.filter(to=PHONE).exclude(status=Status.RECEIVED)) == [welcome]
    run.refresh_from_db()
    assert (run.state, run.reason) == (RunState.EXITED, Reason.OPTED_OUT)
    assert ledger(run) == [("s1", Outcome.SENT), ("s2", Outcome.WAITED)]

    # Why Ada got no Follow-up: the contact page's Automations, step by step.
    page.reload()
    enrolment = page.locator(".contact-runs li[data-run]")
    enrolment.locator(".run-steps").wait_for()
    assert enrolment.locator(".run-state").inner_text() == "Exited because: Opted out"
    sent, waited = enrolment.locator(".run-steps li").all_inner_texts()
    assert sent == "s1: send Welcome — Sent: Delivered open the message"
    assert waited.startswith("s2: wait 1 hour — Waited until")
    fits(page, width)
    screenshot(page, "journey-stop-why")

    # The automation's page says it too, at a phone's width as well.
    page.goto(f"/automations/{automation.public_id}/")
    assert cells(page.locator("table.runs tbody tr"))[1:3] == ["Ada", "Exited because: Opted out"]
    assert "Exited: Opted out (1)" in page.inner_text("main")
    funnel = page.locator("table.funnel")
    welcomed = cells(funnel.locator("tr[data-step=s1]"))  # step, entered, sent, delivered …
    assert (welcomed[1:4], welcomed[-1]) == (["1", "1", "1"], "1")  # … and opt-outs
    assert cells(funnel.locator("tr[data-step=s3]"))[:2] == ["3. SEND FOLLOW-UP", "0"]
