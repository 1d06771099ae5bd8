"""The sweeper against the Twilio sandbox over real HTTP: the seam's list call, Twilio's JSON
and the matching, end to end. The sandbox answers 500 after creating a message (the answer
is lost, the message exists): the sweeper must adopt it, never send it twice."""

from __future__ import annotations

import datetime
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.utils import timezone

from connections import twilio_api
from messaging.models import Message, Status
from messaging.services.sending import message_send
from messaging.services.sweeper import messages_sweep
from sandbox.server import build_app
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS, Options
from tests.connections.helpers import connect
from tests.sandbox.conftest import BackgroundServer

pytestmark = pytest.mark.django_db

PHONE = "+14155550123"


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(options: Options, settings: Any, monkeypatch: pytest.MonkeyPatch) -> BackgroundServer:
    server = BackgroundServer(build_app(options))
    server.start()
    monkeypatch.setattr(twilio_api, "_local", threading.local())  # no kept-alive connection
    settings.TWILIO_API_BASE_URL = server.url
    settings.TWILIO_MESSAGING_BASE_URL = server.url
    # Its status callbacks go to a port nobody listens on: they are not under test here.
    settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{unused_port()}"
    return server


@pytest.fixture
def losing_answers(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A sandbox that creates every message and then answers 500."""
    server = serve(Options(callback_delay_ms=0, http_500_rate=1.0, seed=1), settings, monkeypatch)
    yield server.url
    server.stop()


@pytest.fixture
def sandbox(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = serve(Options(callback_delay_ms=0, seed=1), settings, monkeypatch)
    yield server.url
    server.stop()


def connect_to_sandbox(personas: Any) -> None:
    """Organization A connected to the running sandbox's default account and first number."""
    connect(
        personas,
        "admin",
        sender=DEFAULT_NUMBERS[0],
        account_sid=DEFAULT_ACCOUNT_SID,
        auth_token=DEFAULT_AUTH_TOKEN,
        mock_twilio=False,
    )


def sandbox_messages(url: str) -> list[dict[str, Any]]:
    path = f"{url}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
    response = requests.get(path, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=10)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def test_a_message_whose_answer_was_lost_is_adopted_not_sent_twice(
    personas, losing_answers, django_capture_on_commit_callbacks
):
    connect_to_sandbox(personas)
    with django_capture_on_commit_callbacks(execute=True):  # the send task runs, eagerly
        message = message_send(organization=personas.org, to=PHONE, body="Hi", source="test")
    message.refresh_from_db()
    assert message.status == Status.SUBMITTING  # Twilio's answer was a 500: unknown outcome
    [created] = sandbox_messages(losing_answers)

    result = messages_sweep(now=timezone.now() + datetime.timedelta(seconds=90))

    assert result.adopted == 1
    message.refresh_from_db()
    assert message.sid == created["sid"]
    assert message.status not in (Status.SUBMITTING, Status.PENDING)
    assert message.from_number == DEFAULT_NUMBERS[0]
    assert len(sandbox_messages(losing_answers)) == 1


def test_a_message_twilio_never_got_is_sent_again_once(
    personas, sandbox, django_capture_on_commit_callbacks
):
    connect_to_sandbox(personas)
    with django_capture_on_commit_callbacks(execute=False):  # its task never runs
        message = message_send(organization=personas.org, to=PHONE, body="Hi", source="test")
    # As if a worker had claimed it six minutes ago and died before calling Twilio.
    earlier = timezone.now() - datetime.timedelta(minutes=6)
    Message.objects.filter(pk=message.pk).update(
        status=Status.SUBMITTING,
        submitted_at=earlier,
        updated_at=earlier,
        from_number=DEFAULT_NUMBERS[0],
        attempts=1,
    )
    assert sandbox_messages(sandbox) == []

    with django_capture_on_commit_callbacks(execute=True):
        result = messages_sweep()

    assert (result.adopted, result.resent) == (0, 1)
    [sent] = sandbox_messages(sandbox)
    message.refresh_from_db()
    assert message.sid == sent["sid"]
    assert (sent["to"], sent["body"]) == (PHONE, "Hi")
