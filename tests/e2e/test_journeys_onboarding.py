"""A new admin's first minutes in a browser, at the desktop's and the phone's width: signing
up (which makes their organization), the Connection Center, an Auth Token Twilio refuses shown
on its field, then Twilio connected with a number typed as the Console shows it, and the
inbound webhook URL to give Twilio. Twilio is mocked at the HTTP level: ``responses`` patches
``requests`` for the whole process, so the live server's calls to Twilio are answered too
(the browser's own requests do not go through ``requests``)."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from connections.models import Connection
from tenants.models import Membership, Role
from tests import twilio_mocks as tw
from tests.connections.helpers import BAD_KEYS, WEBHOOK_PREFIX
from tests.e2e.helpers import screenshot
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

CONNECTED = "You have successfully connected your Twilio account."
WRONG_TOKEN = "a" * 32  # well formed, so only Twilio can tell it is wrong
WIDTHS = [1280, 390]  # the desktop's and the phone's, for every journey


def fits(page: Any, width: int) -> None:
    """No sideways scroll: the page is as wide as the screen (the journeys' shared check)."""
    assert page.evaluate("document.documentElement.scrollWidth") == width


def sign_up(page: Any) -> None:
    page.goto("/login/")
    page.click("main a:text-is('Create an account')")
    page.wait_for_selector("h1:text-is('Create your account')")
    page.fill("#id_full_name", "Ada Admin")
    page.fill("#id_email", "ada@texts.example.com")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_organization_name", "Ada Texts")
    assert page.input_value("#id_default_country") == "US"  # reads (415) 555-0100
    fits(page, page.viewport_size["width"])
    screenshot(page, "onboarding-signup")
    page.click("button:text-is('Create account')")
    page.wait_for_selector("main h1:text-is('Ada Texts')")


def fill_connect_form(page: Any, auth_token: str) -> None:
    page.fill("#id_account_sid", tw.ACCOUNT_SID)
    page.fill("#id_auth_token", auth_token)
    page.fill("#id_phone_number", "(415) 555-0100")
    page.click("button:text-is('Verify and connect')")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_signs_up_and_connects_twilio(open_page, width):
    page = open_page(width=width, form_errors="/connections/twilio/connect/")
    sign_up(page)
    assert "Welcome to SMS Hub. Ada Texts is ready." in page.inner_text(".flash")
    membership = Membership.objects.get(user__email="ada@texts.example.com")
    assert (membership.organization.name, membership.role) == ("Ada Texts", Role.OWNER)

    page.click("main a:text-is('Connect your Twilio account')")
    page.wait_for_selector("main h1:text-is('Connection Center')")
    assert "Not connected" in page.inner_text("main")
    page.click("main a:text-is('Connect to Twilio')")
    page.wait_for_selector("main h1:text-is('Connect to Twilio')")

    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        fill_connect_form(page, WRONG_TOKEN)
        page.wait_for_selector("#id_auth_token_error")
    assert page.inner_text("#id_auth_token_error") == BAD_KEYS
    assert page.input_value("#id_auth_token") == ""  # a refused secret is not sent back
    assert page.input_value("#id_phone_number") == "(415) 555-0100"
    assert not Connection.objects.exists()
    fits(page, width)
    screenshot(page, "onboarding-token-error")

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        fill_connect_form(page, tw.AUTH_TOKEN)
        page.wait_for_selector("main h1:text-is('Twilio SMS')")

    main = page.inner_text("main")
    assert CONNECTED in page.inner_text(".flash")
    assert "+14155550100" in main  # the number typed as the Console shows it, in E.164
    assert "Replies and STOP" in main
    connection = Connection.objects.get(organization=membership.organization)
    webhook = page.locator("#webhook-url")
    assert webhook.is_visible()
    assert webhook.input_value() == f"{WEBHOOK_PREFIX}{connection.inbound_key}"
    fits(page, width)
    screenshot(page, "onboarding-connected")
