"""The editor in a browser (headless Chromium, as tests/e2e): htmx saves a changed choice in
place, shows an answer with errors in place, and the "Create new SMS template" round trip
comes back with the new template saved in its step; no script or policy error on the way."""

from __future__ import annotations

import pytest

from automations.models import Automation
from tests.automations.page_helpers import add_template, draft_automation, send_step
from tests.connections.helpers import connect
from tests.e2e.conftest import chromium  # noqa: F401 (the e2e tests' browser, a fixture)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = {"id": "s2", "type": "wait", "duration": {"days": 1}}


@pytest.fixture
def editor(chromium, live_server, settings, personas):  # noqa: F811
    """A marketer's browser; yields (page, problems): answers of 500 and up, answers of 400
    that are not the editor's own form errors, and console errors (a CSP refusal is one)."""
    settings.CSRF_TRUSTED_ORIGINS = [live_server.url]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    context = chromium.new_context(
        base_url=live_server.url, extra_http_headers={"X-Forwarded-Proto": "https"}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []

    def on_response(response) -> None:
        form_error = response.status == 400 and "/edit/" in response.url
        if response.status >= 400 and not form_error:
            problems.append(f"{response.status} {response.url}")

    def on_console(message) -> None:
        if message.type == "error" and "400 (Bad Request)" not in message.text:
            problems.append(message.text)

    page.on("response", on_response)
    page.on("console", on_console)
    page.goto("/login/")
    page.fill("#id_username", "marketer@a.example.com")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_selector("h1:text-is('Acme A')")
    yield page, problems
    context.close()


def draft_of(automation: Automation) -> dict:
    return Automation.objects.get(pk=automation.pk).draft


def test_a_chosen_template_is_saved_in_place_with_its_preview(editor, personas):
    page, problems = editor
    welcome = add_template(personas.org, "Welcome", "Hi {{ first_name }}, welcome aboard!")
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT])
    page.goto(f"/automations/{automation.public_id}/edit/")
    page.evaluate("window.notReloaded = true")

    page.select_option("#id_s1-template", str(welcome.public_id))
    page.wait_for_selector("#step-s1 .bubble-in:has-text('Hi Alex, welcome aboard!')")

    assert page.evaluate("window.notReloaded") is True
    assert draft_of(automation)["steps"][0]["template"] == str(welcome.public_id)
    assert problems == []


def test_an_error_is_shown_in_place_next_to_its_field(editor, personas):
    page, problems = editor
    automation = draft_automation(personas.org)
    page.goto(f"/automations/{automation.public_id}/edit/")
    page.evaluate("window.notReloaded = true")

    page.check("#reentry input[value='after_days']")
    page.click("#reentry button:text('Save re-entry')")
    page.wait_for_selector("#id_days_error:has-text('Give the days before re-entry')")

    assert page.evaluate("window.notReloaded") is True
    assert page.is_checked("#reentry input[value='after_days']")
    assert draft_of(automation)["reentry"] == {"policy": "once"}
    assert problems == []


def test_create_new_sms_template_comes_back_with_it_saved_in_the_step(editor, personas):
    page, problems = editor
    connect(personas)
    automation = draft_automation(personas.org, steps=[WAIT, send_step(None, "s3")])
    page.goto(f"/automations/{automation.public_id}/edit/")

    page.click("#step-s3 button:text('Create new SMS template')")
    page.wait_for_selector("h1:text('New SMS template')")
    page.fill("#id_name", "Spring promo")
    page.fill("#id_body", "Spring is here, {{ first_name }}!")
    page.click("button:text('Create template')")
    page.wait_for_selector("#step-s3 .bubble-in:has-text('Spring is here, Alex!')")

    template = personas.org.sms_templates.get(name="Spring promo")
    assert draft_of(automation)["steps"][1]["template"] == str(template.public_id)
    assert draft_of(automation)["steps"][0] == WAIT
    assert "template=" not in page.url
    assert problems == []


def test_every_builder_field_has_a_label(editor, personas):
    page, problems = editor
    connect(personas)
    branch = {
        "id": "s3",
        "type": "branch",
        "if": {"replied": True},
        "then": "end",
        "else": "continue",
    }
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT, branch])
    for path in ["/automations/new/", f"/automations/{automation.public_id}/edit/"]:
        assert page.goto(path).url.endswith(path)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                 .map(el => el.name || el.id)"""
        )
        assert unlabelled == [], f"{path}: {unlabelled}"
    assert problems == []
