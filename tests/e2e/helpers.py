"""Shared by the browser tests: signing in, and the checks every page passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client

from tests.e2e.guide_images import SCREENSHOTS
from tests.factories import PASSWORD

# Every visible field, select and text area without a label of its own (by name or id).
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
     .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
     .map(el => el.name || el.id)"""


def log_in(page: Any, email: str, organization: str = "Acme A") -> None:
    """Signs in through the login form, as a person does, and waits for the dashboard."""
    page.goto("/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_selector(f"h1:text-is('{organization}')")


def sign_in(page: Any, base_url: str, user: Any) -> None:
    """Signs ``user`` in without the form (a session made on the server, its cookie given to
    the page's browser context): for tests about other pages."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}]
    )


def screenshot(page: Any, name: str) -> Path:
    """A full-page picture of where a journey stands, ``var/screenshots/<name>-<width>.png``
    (what the guide shows)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar where it belongs
    path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def unlabelled_fields(page: Any) -> list[str]:
    return page.evaluate(UNLABELLED)
