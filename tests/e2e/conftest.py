"""Browser tests: headless Chromium (Debian's package) driven by Playwright, against a live server.

The live server runs with production settings, so the browser says it came through the TLS
proxy (X-Forwarded-Proto: https), as every browser in production does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import require_service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    require_service("Chromium (apt-get install chromium)", shutil.which(CHROMIUM) is not None)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the test thread; the tests' own
    # ORM calls are still synchronous, so Django's guard against async misuse does not apply.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def open_page(chromium, live_server, settings):
    """open_page(width=…) → a page in a fresh browser context, pointed at the live server."""
    # The browser itself talks plain HTTP to the live server, so its Origin is http://…
    settings.CSRF_TRUSTED_ORIGINS = [
        live_server.url.replace("127.0.0.1", "localhost"),
        live_server.url,
    ]
    # The live server answers /static/ from the apps' folders (unhashed names), ahead of any
    # middleware, so pages must link the unhashed names for their CSS and JS to load.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    contexts = []
    pages = []

    def make(width: int = 1280, height: int = 900, *, form_errors: str = "", missing: str = ""):
        """``form_errors``: part of the URL whose answers of 400 are the page's own forms
        answered with their errors (shown in place, so expected), with their console lines;
        ``missing``: part of the URL whose 404 is what the test expects."""
        context = chromium.new_context(
            viewport={"width": width, "height": height},
            base_url=live_server.url,
            extra_http_headers={"X-Forwarded-Proto": "https"},
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        failed: list[str] = []

        def a_form_error(status: int, url: str) -> bool:
            expected_missing = bool(missing) and status == 404 and missing in url
            return expected_missing or (bool(form_errors) and status == 400 and form_errors in url)

        def on_response(response) -> None:
            if response.status >= 400 and not a_form_error(response.status, response.url):
                failed.append(f"{response.status} {response.url}")

        def on_console(message) -> None:
            url = message.location.get("url", "")
            if message.type == "error" and not (
                ("status of 400" in message.text and a_form_error(400, url))
                or ("status of 404" in message.text and a_form_error(404, url))
            ):
                failed.append(message.text)

        page.on("response", on_response)
        page.on("console", on_console)
        pages.append((page, failed))
        return page

    yield make
    for context in contexts:
        context.close()
    # A page whose stylesheet, script or CSP fails is broken even if the test passed.
    problems = [problem for _page, failed in pages for problem in failed]
    assert problems == []
