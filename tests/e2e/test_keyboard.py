"""Every flow by keyboard alone, at the desktop's width: after ``page.goto`` to start, the
browser is driven only by ``page.keyboard`` (Tab, Shift+Tab, Enter, Space, arrows, typing).
A marketer adds a contact and tags it; creates an SMS template; builds, publishes and
activates an automation; runs one for everyone after its preflight; an admin confirms a
template's deletion. Every control reached is visibly outlined (``:focus-visible``).

(Signing up, the organization switcher and the phone's Menu are in test_shell.py.)"""

from __future__ import annotations

import re
from typing import Any

import pytest

from automations.models import Automation, Launch, State
from contacts.models import Contact
from messaging.models import Message
from templates_sms.models import SmsTemplate
from tests.automations.helpers import template
from tests.automations.launch_helpers import manual, twilio_prices
from tests.connections.helpers import connect
from tests.e2e.helpers import sign_in
from tests.messaging.helpers import make_contact

pytestmark = pytest.mark.django_db(transaction=True)

# What a screen reader would call the focused element (near enough): its aria-label, its
# label's text, or its own text; the drop-down's choice; and whether it is outlined as
# :focus-visible (the outline or a box shadow, not 'none').
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {name: "(nothing)", tag: "", chosen: "", outlined: false};
  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
  const name = el.getAttribute("aria-label") || label || el.innerText || el.value || el.tagName;
  const style = getComputedStyle(el);
  return {
    name: name.replace(/\\s+/g, " ").trim(),
    tag: el.tagName.toLowerCase(),
    chosen: el.selectedOptions && el.selectedOptions.length ? el.selectedOptions[0].text : "",
    outlined: el.matches(":focus-visible")
      && (style.outlineStyle !== "none" && style.outlineWidth !== "0px"
          || style.boxShadow !== "none"),
  };
}"""

Name = str | re.Pattern[str]


def focused(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(FOCUSED)
    return result


def is_named(name: Name, actual: str) -> bool:
    return actual == name if isinstance(name, str) else name.search(actual) is not None


def tab_to(page: Any, name: Name, *, key: str = "Tab", limit: int = 60) -> dict[str, Any]:
    """Presses ``key`` (Tab, Shift+Tab, an arrow) until the focused element is ``name``
    (exactly, or a pattern found in it), and checks that it is visibly outlined; fails with
    what was focused on the way otherwise."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        if is_named(name, now["name"]):
            assert now["outlined"], f"{now['name']!r} ({now['tag']}) has no visible focus"
            return now
        seen.append(now["name"])
    pytest.fail(f"{key} never reached {name!r}; it focused {seen}")


def press_on(page: Any, name: Name, press: str = "Enter", *, by: str = "Tab") -> None:
    """Tabs (``by``: or Shift+Tab) to ``name`` and presses ``press`` on it."""
    tab_to(page, name, key=by)
    page.keyboard.press(press)


def type_into(page: Any, name: Name, text: str) -> None:
    tab_to(page, name)
    page.keyboard.type(text)


def pick(page: Any, option: str, limit: int = 8) -> None:
    """Arrows down the focused drop-down (closed, as a keyboard leaves it) to ``option``."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("ArrowDown")
        seen.append(focused(page)["chosen"])
        if seen[-1] == option:
            return
    pytest.fail(f"no {option!r} in the drop-down; it chose {seen}")


def choose(page: Any, name: Name, *, first: Name) -> None:
    """Tabs into a group of radio buttons (at ``first``, its first or checked one), arrows to
    ``name`` and checks it with Space."""
    tab_to(page, first)
    if not is_named(name, focused(page)["name"]):
        tab_to(page, name, key="ArrowDown", limit=12)
    page.keyboard.press("Space")


def flash(page: Any, text: str) -> None:
    page.wait_for_selector(f".flash >> text={text}")


def test_a_marketer_adds_a_contact_and_tags_it(open_page, live_server, personas):
    page = open_page()
    sign_in(page, live_server.url, personas.marketer)
    page.goto("/contacts/")
    # The skip link first, then straight to the page's own controls.
    assert tab_to(page, "Skip to content")["tag"] == "a"
    page.keyboard.press("Enter")
    tab_to(page, "Export CSV", limit=1)  # the first control of the page's own
    press_on(page, "Add contact")

    page.wait_for_selector("main h1:text-is('Add contact')")
    type_into(page, re.compile("^Phone"), "(415) 555-0123")
    type_into(page, re.compile("^First name"), "Ada")
    type_into(page, re.compile("^Last name"), "Lovelace")
    type_into(page, re.compile("^Tags"), "vip")
    assert tab_to(page, "Add contact")["tag"] == "button"
    page.keyboard.press("Enter")

    flash(page, "was added.")
    assert page.locator("main h1").inner_text() == "Ada Lovelace"
    type_into(page, "Add a tag", "newsletter")
    press_on(page, "Add", "Space")

    page.wait_for_selector(".tag-list >> text=newsletter")
    contact = Contact.objects.get()
    assert (contact.phone, contact.first_name) == ("+14155550123", "Ada")
    assert sorted(contact.tags.values_list("name", flat=True)) == ["newsletter", "vip"]


def test_a_marketer_creates_an_sms_template(open_page, live_server, personas):
    page = open_page()
    sign_in(page, live_server.url, personas.marketer)
    page.goto("/templates/")
    press_on(page, "New template")

    page.wait_for_selector("main h1:text-is('New SMS template')")
    type_into(page, re.compile("^Name"), "Spring sale")
    type_into(page, re.compile("^Message"), "Hi {{ first_name }}, 20% off this week!")
    page.wait_for_selector("[data-preview] .bubble-in:has-text('Hi Alex, 20% off this week!')")
    press_on(page, "Create template")

    flash(page, "Template “Spring sale” created.")
    assert page.locator("main h1").inner_text() == "SMS templates"
    saved = SmsTemplate.objects.get()
    assert (saved.name, saved.body) == ("Spring sale", "Hi {{ first_name }}, 20% off this week!")


def test_an_admin_confirms_a_deletion_by_keyboard(open_page, live_server, personas):
    template(personas, name="Old promo")
    page = open_page()
    sign_in(page, live_server.url, personas.admin)
    page.goto("/templates/")
    assert tab_to(page, "Duplicate")["tag"] == "button"
    press_on(page, "Delete")

    page.wait_for_selector("main h1:text-is('Delete “Old promo”?')")
    assert SmsTemplate.objects.count() == 1  # asked, not done
    assert tab_to(page, "Cancel")["tag"] == "a"
    press_on(page, "Delete template")

    flash(page, "“Old promo” was deleted.")
    assert SmsTemplate.objects.count() == 0


def test_a_marketer_builds_and_activates_an_automation(open_page, live_server, personas):
    connect(personas)
    template(personas, name="Welcome aboard", body="Hi {{ first_name }}, welcome aboard!")
    # Listed first, so the arrow passes it on the way (and the step is saved with it).
    template(personas, name="Another one", body="Something else")
    page = open_page()
    sign_in(page, live_server.url, personas.marketer)
    page.goto("/automations/")
    press_on(page, "New automation")

    page.wait_for_selector("main h1:text-is('New automation')")
    type_into(page, re.compile("^Name"), "Welcome new leads")
    choose(page, re.compile("^Tag added"), first=re.compile("^Contact created"))
    type_into(page, re.compile("^Tag"), "new-lead")
    press_on(page, "Create draft")

    flash(page, "Now add its steps.")
    assert page.inner_text("#trigger .flow-first") == "When the tag new-lead is added"
    press_on(page, "Twilio SMS")
    flash(page, "Added step 1: Twilio SMS.")
    # Focus goes to the new step (not lost with the button the swap replaced).
    assert page.evaluate("document.activeElement.closest('.step-card').id") == "step-s1"
    assert focused(page)["name"] == "One template"
    tab_to(page, "SMS template", limit=1)
    # Each choice saves the step; the answer to the first comes in after the second choice
    # and must not put the drop-down back (nor lose the focus).
    pick(page, "Welcome aboard · 1 segment")
    page.wait_for_selector("#step-s1 .bubble-in:has-text('Hi Alex, welcome aboard!')")
    now = focused(page)
    assert (now["name"], now["chosen"], now["outlined"]) == (
        "SMS template",
        "Welcome aboard · 1 segment",
        True,
    )
    press_on(page, "Publish", by="Shift+Tab")
    flash(page, "Published version 1.")
    press_on(page, "Activate")

    flash(page, "“Welcome new leads” is active: contacts now enter it.")
    assert page.inner_text("main .version-line .status") == "Active"
    automation = Automation.objects.get(name="Welcome new leads")
    assert automation.state == State.ACTIVE
    live = automation.live_version
    assert live is not None
    assert live.definition["trigger"] == {"type": "tag_added", "tag": "new-lead"}
    chosen = SmsTemplate.objects.get(name="Welcome aboard")
    assert [(s["type"], s["template"]) for s in live.definition["steps"]] == [
        ("send_sms", str(chosen.public_id))
    ]


def test_a_marketer_runs_an_automation_for_everyone(open_page, live_server, personas, monkeypatch):
    connect(personas)
    automation = manual(personas, name="Spring sale")
    for n in range(3):
        make_contact(personas, f"+1415555{n:04d}", first_name=f"P{n}")
    # The messages are left pending: this journey ends where the send workers' begins.
    monkeypatch.setattr("messaging.services.sending.send_batches", lambda ids, **kw: None)
    page = open_page()
    sign_in(page, live_server.url, personas.marketer)
    page.goto(f"/automations/{automation.public_id}/")

    with twilio_prices():
        press_on(page, "Run now")
        page.wait_for_selector("main h1:text-is('Run now')")
        choose(page, "All contacts", first="All contacts")
        press_on(page, "Check the figures")
        page.wait_for_selector("text=Estimated cost")
        assert "3 would enter the automation" in page.inner_text("main")
        assert tab_to(page, "Cancel")["tag"] == "a"
        press_on(page, "Send to 3 contacts")

    flash(page, "Run now started for the 3 contacts of the audience")
    launch = Launch.objects.get()
    assert launch.enrolled == 3
    assert Message.objects.filter(source_ref=str(automation.public_id)).count() == 3
