"""The automation editor in a browser: htmx saves a changed choice in place (with its
preview), shows an answer with errors in place, and the "Create new SMS template" round trip
comes back with the new template saved in its step; every field has a label. open_page fails
the test on any script or policy (CSP) error and any failed answer but the editor's own form
errors (400 from /edit/, shown in place)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from automations.models import Automation
from tests.automations.page_helpers import add_template, draft_automation, edit_path, send_step
from tests.connections.helpers import connect
from tests.e2e.helpers import sign_in, unlabelled_fields

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = {"id": "s2", "type": "wait", "duration": {"days": 1}}


@pytest.fixture
def editor(open_page, live_server, personas):
    """editor(automation) → a marketer's page on that automation's editor, marked so that a
    reload (instead of an in-place swap) shows."""

    def make(automation: Automation) -> Any:
        page = open_page(form_errors="/edit/")
        sign_in(page, live_server.url, personas.marketer)
        path = edit_path(automation)
        assert page.goto(path).url.endswith(path)  # signed in: not sent to the login page
        page.evaluate("window.notReloaded = true")
        return page

    return make


def draft_of(automation: Automation) -> dict[str, Any]:
    return Automation.objects.get(pk=automation.pk).draft


def not_reloaded(page: Any) -> bool:
    return page.evaluate("window.notReloaded === true")


def test_a_chosen_template_is_saved_in_place_with_its_preview(editor, personas):
    welcome = add_template(personas.org, "Welcome", "Hi {{ first_name }}, welcome aboard!")
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT])
    page = editor(automation)

    page.select_option("#id_s1-template", str(welcome.public_id))
    page.wait_for_selector("#step-s1 .bubble-in:has-text('Hi Alex, welcome aboard!')")

    assert not_reloaded(page)
    assert draft_of(automation)["steps"] == [send_step(welcome, respect_quiet_hours=True), WAIT]


def test_an_error_is_shown_in_place_next_to_its_field(editor, personas):
    automation = draft_automation(personas.org)
    page = editor(automation)

    page.check("#reentry input[value='after_days']")
    page.click("#reentry button:text('Save re-entry')")
    page.wait_for_selector("#id_days_error:has-text('Give the days before re-entry')")

    assert not_reloaded(page)
    assert page.is_checked("#reentry input[value='after_days']")
    assert draft_of(automation)["reentry"] == {"policy": "once"}


def test_create_new_sms_template_comes_back_with_it_saved_in_the_step(editor, personas):
    connect(personas)
    automation = draft_automation(personas.org, steps=[WAIT, send_step(None, "s3")])
    page = editor(automation)

    page.click("#step-s3 button:text('Create new SMS template')")
    page.wait_for_selector("h1:text('New SMS template')")
    page.fill("#id_name", "Spring promo")
    page.fill("#id_body", "Spring is here, {{ first_name }}!")
    page.click("button:text('Create template')")
    page.wait_for_selector("#step-s3 .bubble-in:has-text('Spring is here, Alex!')")

    template = personas.org.sms_templates.get(name="Spring promo")
    assert draft_of(automation)["steps"] == [
        WAIT,
        send_step(template, "s3", respect_quiet_hours=True),
    ]
    url = urlsplit(page.url)  # back on the step, the ?template=… it came back with taken away
    assert (url.path, url.query, url.fragment) == (edit_path(automation), "", "step-s3")


def test_every_builder_field_has_a_label(editor, personas):
    connect(personas)
    branch = {
        "id": "s3",
        "type": "branch",
        "if": {"replied": True},
        "then": "end",
        "else": "continue",
    }
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT, branch])
    page = editor(automation)
    assert unlabelled_fields(page) == [], page.url
    assert page.goto("/automations/new/").url.endswith("/automations/new/")
    assert unlabelled_fields(page) == [], page.url
