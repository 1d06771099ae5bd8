"""The API reference (/api/v1/docs/) in a browser: Swagger UI loads from the app under the
Content-Security-Policy (the fixture fails the test on any console error or failed request),
lists the operations, and tries one with a key given to Authorize."""

import pytest

from tenants.services.api_keys import api_key_create
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_reads_the_reference_and_tries_a_call_with_a_key(open_page, personas):
    _key, raw = api_key_create(organization=personas.org, name="docs", role="viewer")
    page = open_page()
    log_in(page, "owner@a.example.com")
    page.goto("/")
    page.click("footer.app-footer >> text=API reference")
    page.wait_for_selector(".opblock-tag-section")
    assert page.title() == "API reference · SMS Hub"
    assert page.locator(".opblock").count() > 40
    assert "SMS Hub API" in page.locator(".info .title").inner_text()

    page.click("button.authorize")
    page.fill(".auth-container input", raw)
    page.click(".auth-btn-wrapper button.authorize")
    page.click("button.btn-done")

    operation = page.locator("#operations-organization-organization_retrieve")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    status.first.wait_for()
    assert status.first.inner_text().strip() == "200"
    assert "Acme A" in operation.locator(".live-responses-table .microlight").first.inner_text()
