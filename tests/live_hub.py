"""A live hub: a Twilio sandbox served in a thread, the Twilio seam pointed at it, and an
organization connected to it (``connect_twilio --configure-number``), so that the sandbox's
webhooks (status callbacks, inbound texts) reach pytest-django's live server.

A test module uses it by importing both fixtures (``from tests.live_hub import live_hub,
sandbox_factory``) and listing them in its ``__all__``. Its tests need
``pytest.mark.django_db(transaction=True)``: the live server reads what they write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.middleware.security import SecurityMiddleware

from connections import twilio_api
from connections.models import TwilioCredentials
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS
from tests.sandbox.conftest import Sandbox, SandboxFactory, sandbox_factory

__all__ = ["HubFactory", "live_hub", "sandbox_factory"]

HubFactory = Callable[..., Sandbox]
SENDER = DEFAULT_NUMBERS[0]  # the organization's number: the sandbox's first, a local one


@pytest.fixture
def live_hub(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    live_server: Any,
    sandbox_factory: SandboxFactory,
) -> HubFactory:
    """live_hub(slug, **options) → a sandbox with those ``Options`` (see ``sandbox_factory``),
    the organization ``slug`` connected to it through the verified connect flow with
    ``SENDER``, whose incoming texts go to the live server."""

    def make(slug: str, **options: Any) -> Sandbox:
        sandbox = sandbox_factory(**options)
        # One Twilio HTTP client per thread, its proxies read for the base URL it was made
        # under: none made before is reused.
        monkeypatch.setattr(twilio_api, "_local", threading.local())
        settings.TWILIO_API_BASE_URL = sandbox.url
        settings.TWILIO_MESSAGING_BASE_URL = sandbox.url
        settings.PUBLIC_BASE_URL = live_server.url
        # The sandbox posts plain HTTP to the live server (Twilio posts HTTPS in production).
        monkeypatch.setattr(SecurityMiddleware, "process_request", lambda self, request: None)
        call_command(
            "connect_twilio",
            slug,
            "--account-sid",
            DEFAULT_ACCOUNT_SID,
            "--auth-token",
            DEFAULT_AUTH_TOKEN,
            "--phone-number",
            SENDER,
            "--configure-number",
            stdout=StringIO(),
        )
        # Faster than a local number's 1 segment a second, as an admin may set it.
        TwilioCredentials.objects.filter(connection__organization__slug=slug).update(send_rate=100)
        return sandbox

    return make
