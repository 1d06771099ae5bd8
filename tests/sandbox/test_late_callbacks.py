"""Status callbacks held back and released late (Twilio's own status moves on meanwhile), and
callbacks posted again when the web answered 5xx or could not be reached."""

from __future__ import annotations

import socket
import time
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from sandbox.state import DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS
from tests.sandbox.conftest import PhoneSink, Sandbox, SandboxFactory, wait_until

LOCAL = DEFAULT_NUMBERS[0]


def send(sandbox: Sandbox, callback: str, to: str = "+15005550123") -> str:
    response = sandbox.create_message(To=to, From=LOCAL, Body="hi", StatusCallback=callback)
    assert response.status_code == 201, response.text
    message_sid: str = response.json()["sid"]
    return message_sid


def release(sandbox: Sandbox, **data: Any) -> requests.Response:
    return requests.post(f"{sandbox.url}/sandbox/callbacks/release", json=data, timeout=5)


def test_held_callbacks_wait_for_the_release_while_twilios_status_moves_on(
    sandbox_factory: SandboxFactory, phone_sink: PhoneSink
):
    sandbox = sandbox_factory(hold_callbacks=True)
    first = send(sandbox, f"{phone_sink.url}/status/1")
    second = send(sandbox, f"{phone_sink.url}/status/2", to="+15005550124")

    wait_until(lambda: sandbox.stats()["callbacks"]["held"] == 6, what="six held callbacks")
    time.sleep(0.2)
    assert phone_sink.received() == []
    # A status fetch sees the final status although no callback said so yet.
    assert sandbox.fetch_message(first)["status"] == "delivered"

    answer = release(sandbox)

    assert answer.status_code == 202
    assert answer.json() == {"released": 6, "holding": True}
    posts = phone_sink.wait_for(6)
    for path, sid in (("/status/1", first), ("/status/2", second)):
        mine = [p for p in posts if p.path == path]
        assert [p.params["MessageStatus"] for p in mine] == ["queued", "sent", "delivered"]
        assert {p.params["MessageSid"] for p in mine} == {sid}
        for post in mine:  # signed as when they were due
            assert RequestValidator(DEFAULT_AUTH_TOKEN).validate(
                post.url, post.params, post.signature
            )
    stats = sandbox.stats()["callbacks"]
    assert stats["held"] == 0
    assert stats["answers"] == {"204": 6}


def test_holding_goes_on_after_a_release_until_asked_to_stop(
    sandbox_factory: SandboxFactory, phone_sink: PhoneSink
):
    sandbox = sandbox_factory(hold_callbacks=True)
    send(sandbox, f"{phone_sink.url}/status/1")
    wait_until(lambda: sandbox.stats()["callbacks"]["held"] == 3, what="three held callbacks")
    assert release(sandbox).json() == {"released": 3, "holding": True}
    phone_sink.wait_for(3)

    send(sandbox, f"{phone_sink.url}/status/2", to="+15005550124")
    wait_until(lambda: sandbox.stats()["callbacks"]["held"] == 3, what="held again")
    assert len(phone_sink.received()) == 3

    assert release(sandbox, hold=False).json() == {"released": 3, "holding": False}
    phone_sink.wait_for(6)
    send(sandbox, f"{phone_sink.url}/status/3", to="+15005550125")
    assert len(phone_sink.wait_for(3, "/status/3")) == 3
    assert sandbox.stats()["callbacks"]["held"] == 0


def test_a_release_with_nothing_held_releases_nothing(sandbox: Sandbox):
    answer = release(sandbox)

    assert answer.status_code == 202
    assert answer.json() == {"released": 0, "holding": False}


# --- Callbacks posted again ------------------------------------------------------------------


def test_a_callback_answered_5xx_is_posted_again_up_to_the_retries(
    sandbox_factory: SandboxFactory, phone_sink: PhoneSink
):
    phone_sink.status, phone_sink.body = 503, "busy"
    sandbox = sandbox_factory(callback_retries=2, callback_retry_ms=20)

    send(sandbox, f"{phone_sink.url}/status")

    posts = phone_sink.wait_for(9)
    assert [p.params["MessageStatus"] for p in posts] == ["queued"] * 3 + ["sent"] * 3 + [
        "delivered"
    ] * 3
    time.sleep(0.2)
    assert len(phone_sink.received()) == 9  # never more than the retries
    stats = sandbox.stats()["callbacks"]
    assert stats["answers"] == {"503": 9}
    assert stats["retried"] == 6


def test_a_callback_the_web_took_or_refused_with_4xx_is_not_posted_again(
    sandbox_factory: SandboxFactory, phone_sink: PhoneSink
):
    phone_sink.status = 403
    sandbox = sandbox_factory(callback_retries=3, callback_retry_ms=20)

    send(sandbox, f"{phone_sink.url}/status")

    phone_sink.wait_for(3)
    time.sleep(0.3)
    assert len(phone_sink.received()) == 3
    assert sandbox.stats()["callbacks"] == {
        "posted": 3,
        "answers": {"403": 3},
        "retried": 0,
        "held": 0,
    }


def test_a_callback_to_an_unreachable_web_is_posted_again_and_counted_as_errors(
    sandbox_factory: SandboxFactory,
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = probe.getsockname()[1]
    sandbox = sandbox_factory(callback_retries=1, callback_retry_ms=20)

    send(sandbox, f"http://127.0.0.1:{nobody}/status")

    wait_until(
        lambda: sandbox.stats()["callbacks"]["posted"] == 6, what="three callbacks, twice each"
    )
    stats = sandbox.stats()["callbacks"]
    assert stats["answers"] == {"error": 6}
    assert stats["retried"] == 3


def test_without_retries_a_failed_callback_is_posted_once(
    sandbox_factory: SandboxFactory, phone_sink: PhoneSink
):
    phone_sink.status = 500
    sandbox = sandbox_factory()

    send(sandbox, f"{phone_sink.url}/status")

    phone_sink.wait_for(3)
    time.sleep(0.3)
    assert len(phone_sink.received()) == 3
    assert sandbox.stats()["callbacks"]["retried"] == 0
