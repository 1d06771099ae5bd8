"""Journeys in a browser, at the desktop's and the phone's width, each ending on a screenshot:
a CSV import from the upload to its error report; a viewer who reads everything and writes
nothing; another organization's address, a 404 page."""

from __future__ import annotations

import pytest

from contacts.models import Contact
from tests.contacts.import_helpers import csv_text
from tests.e2e.helpers import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = [1280, 390]
FILE = csv_text(
    [
        ["Mobile", "First Name", "E-mail", "Tags"],
        ["(415) 555-0100", "Ann", "ann@example.com", "vip"],
        ["415 555 0101", "Bo", "not-an-email", ""],
        ["", "Nobody", "", ""],
    ]
).encode()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_marketer_imports_a_csv_and_gets_the_error_report(open_page, personas, width):
    page = open_page(width=width)
    log_in(page, "marketer@a.example.com")
    page.goto("/contacts/")
    page.click("text=Import CSV")
    page.set_input_files(
        "input[type=file]", {"name": "crm.csv", "mimeType": "text/csv", "buffer": FILE}
    )
    page.click("button:text-is('Upload')")

    page.wait_for_selector("text=Check the columns and the preview")
    assert "+14155550100" in page.inner_text("main")  # the preview, in E.164
    assert "is not an e-mail address" in page.inner_text("main")
    screenshot(page, "import-columns")
    page.click("button:text-is('Start import')")

    page.wait_for_selector("text=Completed")
    assert "3 of 3 rows read (100%)" in page.inner_text("main")
    report = page.locator("a", has_text="Download the error report (2 rows)")
    assert report.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") == width
    screenshot(page, "import-done")
    assert list(Contact.objects.values_list("phone", flat=True)) == ["+14155550100"]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_viewer_reads_everything_and_is_offered_no_writes(open_page, personas, width):
    page = open_page(width=width)
    log_in(page, "viewer@a.example.com")
    for path, heading in [
        ("/contacts/", "Contacts"),
        ("/templates/", "SMS templates"),
        ("/automations/", "Automations"),
        ("/contacts/import/", "Import contacts"),
    ]:
        page.goto(path)
        assert page.locator("main h1").inner_text() == heading
        for write in ("Add contact", "Import CSV", "New template", "New automation", "Upload"):
            assert page.locator(f"main >> text={write}").count() == 0, (path, write)
    screenshot(page, "viewer-contacts")


@pytest.mark.parametrize("width", WIDTHS)
def test_another_organizations_address_is_a_404_page(open_page, personas, width):
    theirs = Contact.objects.create(
        organization=personas.other_org, phone="+14155550199", time_zone="America/New_York"
    )
    page = open_page(width=width, missing=f"/contacts/{theirs.public_id}/")
    log_in(page, "marketer@a.example.com")

    response = page.goto(f"/contacts/{theirs.public_id}/")

    assert response is not None
    assert response.status == 404
    assert page.locator("main h1").inner_text() == "Page not found"
    assert "belongs to another organization" in page.inner_text("main")
    screenshot(page, "not-found")
