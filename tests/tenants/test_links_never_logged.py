"""Links that carry a secret (password reset, invitation) never reach a log line.

Two nets are checked: our own code never logs such a link, and whatever Django logs about a
request to one of those paths (a 405, a 410) goes out with the token masked.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
from django.core import mail
from django.test import Client

from tests.factories import PASSWORD, page_text

pytestmark = pytest.mark.django_db

RESET_LINK = re.compile(r"https://hub\.example\.com(/password-reset/[^/\s]+/([^/\s]+)/)")
INVITATION_LINK = re.compile(r"https://hub\.example\.com(/invitations/([A-Za-z0-9_-]+)/)")


class Raw(logging.Handler):
    """Every record as our code logged it, before any filter masks it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def logs() -> Iterator[tuple[io.StringIO, Raw]]:
    """(what the configured stdout handler writes, what our own loggers emit unmasked)."""
    written = io.StringIO()
    handlers = {id(h): h for h in logging.getLogger().handlers}
    handlers.update({id(h): h for h in logging.getLogger("django").handlers})
    streams = [h for h in handlers.values() if isinstance(h, logging.StreamHandler)]
    assert streams, "the logging configuration should write to a stream"
    previous = [(h, h.setStream(written)) for h in streams]
    raw = Raw()
    ours = [logging.getLogger(name) for name in ("tenants", "connections", "config")]
    for logger in ours:
        logger.addHandler(raw)
    levels = [(logger, logger.level) for logger in ours]
    for logger in ours:
        logger.setLevel(logging.DEBUG)
    try:
        yield written, raw
    finally:
        for handler, stream in previous:
            handler.setStream(stream)
        for logger, level in levels:
            logger.removeHandler(raw)
            logger.setLevel(level)


def test_it_never_logs_the_password_reset_link(client, personas, logs):
    written, raw = logs
    client.post("/password-reset/", {"email": "viewer@a.example.com"})
    path, token = RESET_LINK.findall(str(mail.outbox[0].body))[0]

    # Django logs refusals with the path: a form posted without its CSRF cookie is one.
    assert (
        Client(enforce_csrf_checks=True, HTTP_X_FORWARDED_PROTO="https").post(path).status_code
        == 403
    )
    set_password = client.get(path)["Location"]
    client.post(set_password, {"new_password1": "a-new-passphrase", "new_password2": "x"})

    output = written.getvalue()
    assert "WARNING django.security.csrf Forbidden (" in output
    assert "): /password-reset/" in output
    assert token not in output
    assert not [line for line in raw.lines if token in line]
    assert str(mail.outbox[0].body) not in output


def test_it_never_logs_the_invitation_link(
    client, personas, logs, django_capture_on_commit_callbacks
):
    written, raw = logs
    admin = personas.client("admin")
    with django_capture_on_commit_callbacks(execute=True):
        page = admin.post("/settings/members/", {"email": "newbie@example.com", "role": "marketer"})
    assert page.status_code == 200
    path, token = INVITATION_LINK.findall(str(mail.outbox[0].body))[0]
    assert path in page_text(page)

    assert client.get(path).status_code == 200
    joined = client.post(path, {"full_name": "New Bie", "password": PASSWORD})
    assert joined.status_code == 302
    # Used now: the answer is a 410, which Django logs with the path.
    assert client.get(path).status_code == 410
    assert client.get(f"/login/?next={path}").status_code == 302

    output = written.getvalue()
    assert "invitation created" in output
    assert "invitation accepted" in output
    assert "Gone: /invitations/" in output
    assert token not in output
    assert not [line for line in raw.lines if token in line]
