"""An incoming webhook's secret is in its path, so every line that quotes the path (Django's
"Not Found: …" and "Bad Request: …", a server's request line) goes out with it masked; the
automation's id stays readable, and rotating logs the id alone."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from automations.services.automations import webhook_secret_rotate
from config.logging import redact
from tests.automations.page_helpers import draft_automation
from tests.automations.webhook_helpers import WEBHOOK, post, webhook_automation, webhook_path

pytestmark = pytest.mark.django_db

ID = "8a6c1f2e-0000-4000-8000-000000000000"
SECRET = "Hk3_x-Qm9ZpLwTn4VbR7sYc2Ud8Fe1Gh6Jk0Ai5Oq_-"


def test_it_masks_the_secret_in_every_shape_of_the_path():
    line = redact(
        f'"POST /webhooks/automations/{ID}/{SECRET} HTTP/1.1" 404 '
        f"https://hub.example.com/webhooks/automations/{ID}/{SECRET}?x=1 "
        f"next=%2Fwebhooks%2Fautomations%2F{ID}%2F{SECRET}"
    )

    assert SECRET not in line
    assert f'"POST /webhooks/automations/{ID}/[redacted] HTTP/1.1" 404' in line
    assert f"/webhooks/automations/{ID}/[redacted]?x=1" in line
    assert f"%2Fwebhooks%2Fautomations%2F{ID}%2F[redacted]" in line


def test_it_leaves_the_builders_paths_readable():
    text = f"/automations/{ID}/edit/ /automations/{ID}/webhook/rotate/"
    assert redact(text) == text


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What the configured stdout handlers write."""
    out = io.StringIO()
    handlers = {id(h): h for h in logging.getLogger().handlers}
    handlers.update({id(h): h for h in logging.getLogger("django").handlers})
    streams = [h for h in handlers.values() if isinstance(h, logging.StreamHandler)]
    assert streams, "the logging configuration should write to a stream"
    previous = [(h, h.setStream(out)) for h in streams]
    try:
        yield out
    finally:
        for handler, stream in previous:
            handler.setStream(stream)


@pytest.mark.usefixtures("connection", "enqueued")
def test_djangos_lines_about_refused_posts_never_carry_the_secret(personas, written):
    automation = webhook_automation(personas)
    secret = automation.webhook_secret
    guess = secret[::-1]

    answers = [
        post(webhook_path(automation, guess), {"phone": "+14155550101"}).status_code,
        post(webhook_path(automation), "{").status_code,
        post(webhook_path(automation), {"phone": "nope"}).status_code,
    ]

    assert answers == [404, 400, 400]
    output = written.getvalue()
    assert f"Not Found: /webhooks/automations/{automation.public_id}/[redacted]" in output
    assert f"Bad Request: /webhooks/automations/{automation.public_id}/[redacted]" in output
    assert secret not in output
    assert guess not in output


def test_rotating_logs_the_automation_not_the_secret(personas, written):
    automation = draft_automation(personas.org, trigger=WEBHOOK)
    old = automation.webhook_secret

    webhook_secret_rotate(automation=automation, by=personas.marketer)

    output = written.getvalue()
    assert f"webhook secret rotated: automation {automation.public_id}" in output
    assert old not in output
    assert automation.webhook_secret not in output
