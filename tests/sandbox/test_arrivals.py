"""``GET /sandbox/arrivals``: when each outbound create was stored, per recipient, in order."""

from __future__ import annotations

import time

from tests.sandbox.conftest import LOCAL, PHONE, Sandbox

OTHER = "+15005550124"


def create(sandbox: Sandbox, to: str) -> None:
    response = sandbox.create_message(To=to, From=LOCAL, Body="hi")
    assert response.status_code == 201, response.text


def arrivals(sandbox: Sandbox) -> dict[str, list[float]]:
    response = sandbox.session.get(f"{sandbox.url}/sandbox/arrivals", timeout=10)
    assert response.status_code == 200, response.text
    found: dict[str, list[float]] = response.json()["arrivals"]
    return found


def test_it_lists_each_recipients_creates_as_epoch_seconds_in_order(sandbox):
    before = time.time()
    create(sandbox, PHONE)
    between = time.time()
    create(sandbox, OTHER)
    create(sandbox, PHONE)
    after = time.time()

    found = arrivals(sandbox)

    assert set(found) == {PHONE, OTHER}
    first, repeat = found[PHONE]
    assert before <= first <= between <= repeat <= after
    assert 0 < repeat - first < 1  # sub-second precision: two creates apart in milliseconds
    assert len(found[OTHER]) == 1
    assert between <= found[OTHER][0] <= after


def test_a_create_is_stored_after_the_configured_latency(sandbox_factory):
    sandbox = sandbox_factory(latency_ms=200)

    sent_at = time.time()
    create(sandbox, PHONE)

    (arrived,) = arrivals(sandbox)[PHONE]
    assert arrived - sent_at >= 0.2


def test_inbound_messages_and_refused_creates_are_not_arrivals(sandbox, phone_sink):
    url = f"{phone_sink.url}/sms"
    response = sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "hello", "url": url})
    refused = sandbox.create_message(To="not-a-number", From=LOCAL, Body="hi")

    assert response.status_code == 200, response.text
    assert refused.status_code == 400
    assert arrivals(sandbox) == {}
