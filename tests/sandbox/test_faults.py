"""The sandbox misbehaving on purpose: 500s that did or did not create the message, 429s that
never do, slow creates answered past the caller's timeout, and an outage (the port refuses
connections for a while, then the same account answers again)."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from aiohttp.test_utils import TestClient, TestServer

from sandbox.server import build_app
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_NUMBERS, Options
from tests.sandbox.conftest import PhoneSink, Sandbox, SandboxFactory, wait_until

LOCAL = DEFAULT_NUMBERS[0]


def recipient(n: int) -> str:
    return f"+1415300{n:04d}"


def listed(sandbox: Sandbox, to: str) -> list[dict[str, object]]:
    response = sandbox.get(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json", params={"To": to}
    )
    assert response.status_code == 200, response.text
    messages: list[dict[str, object]] = response.json()["messages"]
    return messages


# --- Unknown outcomes of a create ------------------------------------------------------------


def test_a_500_that_created_nothing_leaves_no_message_and_no_callback(
    sandbox_factory: SandboxFactory, phone_sink: PhoneSink
):
    sandbox = sandbox_factory(http_500_rate=1.0, http_500_created_rate=0.0)

    response = sandbox.create_message(
        To=recipient(1), From=LOCAL, Body="hi", StatusCallback=f"{phone_sink.url}/status/1"
    )

    assert response.status_code == 500
    assert response.json()["code"] == 20500
    assert listed(sandbox, recipient(1)) == []
    assert sandbox.stats()["creates"] == {}
    time.sleep(0.3)
    assert phone_sink.received() == []


def test_the_shares_of_429s_and_500s_and_which_500s_created_the_message(
    sandbox_factory: SandboxFactory, phone_sink: PhoneSink
):
    sandbox = sandbox_factory(
        http_429_rate=0.25, http_500_rate=0.25, http_500_created_rate=0.5, seed=7
    )

    answers: dict[int, int] = {}
    for n in range(200):
        response = sandbox.create_message(
            To=recipient(n), From=LOCAL, Body="hi", StatusCallback=f"{phone_sink.url}/status/{n}"
        )
        answers[n] = response.status_code

    created = {n for n in answers if listed(sandbox, recipient(n))}
    by_answer = Counter(answers.values())
    assert set(by_answer) == {201, 429, 500}
    assert 30 <= by_answer[429] <= 70
    assert 30 <= by_answer[500] <= 70
    assert all(n in created for n, status in answers.items() if status == 201)
    assert not any(n in created for n, status in answers.items() if status == 429)
    lost_answers = [n for n, status in answers.items() if status == 500]
    created_500s = [n for n in lost_answers if n in created]
    assert 0 < len(created_500s) < len(lost_answers)  # some 500s created it, some did not
    # Only the created ones count, once each, under their callback URL.
    stats = sandbox.stats()
    assert stats["creates"] == {f"{phone_sink.url}/status/{n}": 1 for n in created}
    assert stats["faults"] == {
        "429": by_answer[429],
        "500-created": len(created_500s),
        "500-not-created": len(lost_answers) - len(created_500s),
    }


def test_a_slow_create_is_stored_at_once_and_answered_after_the_caller_gave_up(
    sandbox_factory: SandboxFactory, phone_sink: PhoneSink
):
    sandbox = sandbox_factory(slow_rate=1.0, slow_ms=1500)
    callback = f"{phone_sink.url}/status/slow"

    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        sandbox.session.post(
            f"{sandbox.account_url}/Messages.json",
            data={"To": recipient(1), "From": LOCAL, "Body": "slow", "StatusCallback": callback},
            auth=sandbox.auth,
            timeout=(3, 0.5),
        )

    # Twilio has it: listed and its callbacks going out while the answer is still held back.
    [message] = listed(sandbox, recipient(1))
    assert message["body"] == "slow"
    assert [p.params["MessageStatus"] for p in phone_sink.wait_for(3)] == [
        "queued",
        "sent",
        "delivered",
    ]
    assert time.monotonic() - started < 1.5
    waited = time.monotonic()
    patient = sandbox.create_message(To=recipient(2), From=LOCAL, Body="slow")
    assert patient.status_code == 201  # a caller that waits long enough gets the answer
    assert time.monotonic() - waited >= 1.5
    assert sandbox.stats()["faults"] == {"slow": 2}


# --- Outages -----------------------------------------------------------------------------------


def refused(sandbox: Sandbox) -> bool:
    try:
        requests.get(f"{sandbox.url}/sandbox/stats", timeout=1)
    except requests.ConnectionError as error:
        return "refused" in str(error).lower()
    return False


def test_an_outage_refuses_connections_then_the_same_account_answers_again(
    sandbox_factory: SandboxFactory, phone_sink: PhoneSink
):
    sandbox = sandbox_factory(callback_delay_ms=400)
    before = sandbox.create_message(
        To=recipient(1), From=LOCAL, Body="before", StatusCallback=f"{phone_sink.url}/s/1"
    )
    assert before.status_code == 201

    answer = requests.post(f"{sandbox.url}/sandbox/outage", json={"seconds": 1.5}, timeout=5)

    assert answer.status_code == 202
    assert answer.json() == {"outage_seconds": 1.5}
    wait_until(lambda: refused(sandbox), timeout=1, what="the port to refuse connections")
    # The session's kept-alive connection was dropped too: it reconnects, and is refused.
    with pytest.raises(requests.ConnectionError):
        sandbox.create_message(To=recipient(2), From=LOCAL, Body="during")
    time.sleep(0.6)
    assert phone_sink.received() == []  # callbacks due meanwhile wait for the sandbox
    wait_until(lambda: not refused(sandbox), timeout=3, what="the sandbox to come back")
    stats = sandbox.stats()
    assert stats["up"] is True
    assert stats["creates"] == {f"{phone_sink.url}/s/1": 1}  # its state kept
    assert len(listed(sandbox, recipient(1))) == 1
    assert listed(sandbox, recipient(2)) == []
    after = sandbox.create_message(To=recipient(3), From=LOCAL, Body="after")
    assert after.status_code == 201
    statuses = [p.params["MessageStatus"] for p in phone_sink.wait_for(3)]
    assert statuses == ["queued", "sent", "delivered"]


@pytest.mark.parametrize("body", [{}, {"seconds": 0}, {"seconds": "soon"}, {"seconds": 7200}])
def test_an_outage_needs_a_sensible_length_and_a_bad_one_changes_nothing(
    sandbox: Sandbox, body: dict[str, Any]
):
    answer = requests.post(f"{sandbox.url}/sandbox/outage", json=body, timeout=5)

    assert answer.status_code == 400
    assert "seconds must be a number above 0" in answer.json()["error"]
    assert sandbox.stats()["up"] is True
    assert not refused(sandbox)


def test_an_outage_needs_the_sandbox_served_by_its_own_listener():
    async def ask() -> tuple[int, dict[str, object]]:
        # aiohttp's test server opens its own site, which the sandbox cannot close and reopen.
        async with TestClient(TestServer(build_app(Options()))) as client:
            response = await client.post("/sandbox/outage", json={"seconds": 1})
            return response.status, await response.json()

    # In a thread of its own: a loop may already run in this one (Playwright's sync API, which
    # the browser tests use, leaves one running), and asyncio.run() refuses to nest.
    with ThreadPoolExecutor(max_workers=1) as pool:
        status, body = pool.submit(asyncio.run, ask()).result(timeout=30)

    assert status == 409
    assert body == {"error": "the sandbox is not listening"}


def test_a_request_an_outage_cuts_off_mid_body_is_dropped_quietly(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
):
    port = int(sandbox.url.rsplit(":", 1)[1])
    path = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
    token = base64.b64encode(f"{sandbox.auth[0]}:{sandbox.auth[1]}".encode()).decode()
    caplog.set_level(logging.INFO)
    with socket.create_connection(("127.0.0.1", port)) as half_sent:
        half_sent.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {token}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            "To=%2B1415".encode()
        )
        time.sleep(0.2)
        answer = requests.post(f"{sandbox.url}/sandbox/outage", json={"seconds": 0.5}, timeout=5)
        assert answer.status_code == 202
        assert half_sent.recv(100) == b""  # dropped, never answered
    wait_until(lambda: not refused(sandbox), timeout=3, what="the sandbox to come back")

    assert f"POST {path}: the connection was dropped" in caplog.messages
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert listed(sandbox, "+1415") == []
