"""Status callbacks: signed like Twilio, in Twilio's order, or shuffled and duplicated if asked."""

from __future__ import annotations

import itertools
import socket
from collections import Counter

import pytest
from twilio.request_validator import RequestValidator

from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS
from tests.sandbox.conftest import PhoneSink, Post, Sandbox, SandboxFactory, wait_until

LOCAL, UNREGISTERED, TOLL_FREE = DEFAULT_NUMBERS
PHONE = "+15005550123"
CANONICAL = ["queued", "sent", "delivered"]


def send(sandbox: Sandbox, sink: PhoneSink, path: str = "/status", **params: str) -> str:
    params = {"To": PHONE, "From": LOCAL, "Body": "hi", **params}
    response = sandbox.create_message(StatusCallback=f"{sink.url}{path}", **params)
    assert response.status_code == 201, response.text
    message_sid: str = response.json()["sid"]
    return message_sid


def statuses(posts: list[Post]) -> list[str]:
    return [p.params["MessageStatus"] for p in posts]


def test_it_posts_queued_sent_delivered_to_the_status_callback(sandbox, phone_sink):
    message_sid = send(sandbox, phone_sink, To=PHONE, From=LOCAL)

    callbacks = phone_sink.wait_for(3, "/status")

    assert statuses(callbacks) == CANONICAL
    for callback, status in zip(callbacks, CANONICAL, strict=True):
        assert callback.params == {
            "AccountSid": DEFAULT_ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "From": LOCAL,
            "MessageSid": message_sid,
            "MessageStatus": status,
            "SmsSid": message_sid,
            "SmsStatus": status,
            "To": PHONE,
        }
        assert callback.headers["content-type"].startswith("application/x-www-form-urlencoded")
    final = sandbox.fetch_message(message_sid)
    assert final["status"] == "delivered"
    assert final["date_sent"] is not None


def test_it_signs_every_callback_so_twilios_validator_accepts_it(sandbox, phone_sink):
    # A callback URL with a query string: the signature covers the full URL.
    send(sandbox, phone_sink, path="/status?tenant=acme&attempt=1")
    send(sandbox, phone_sink, path="/status/other")

    callbacks = phone_sink.wait_for(6)

    genuine = RequestValidator(DEFAULT_AUTH_TOKEN)
    impostor = RequestValidator("f" * 32)
    assert {c.path for c in callbacks} == {"/status?tenant=acme&attempt=1", "/status/other"}
    for callback in callbacks:
        assert callback.signature
        assert genuine.validate(callback.url, callback.params, callback.signature) is True
        assert impostor.validate(callback.url, callback.params, callback.signature) is False
        tampered = {**callback.params, "MessageStatus": "failed"}
        assert genuine.validate(callback.url, tampered, callback.signature) is False


@pytest.mark.parametrize("path", ["/status?next=%2Forders%2F42", "/status?email=ann%40example.com"])
def test_it_posts_to_the_status_callback_exactly_as_given(sandbox, phone_sink, path):
    # Twilio requests the StatusCallback as given and signs that URL, so a receiver that
    # validates against the URL it was requested at (as twilio's own helpers do) accepts it.
    send(sandbox, phone_sink, path=path)

    callbacks = phone_sink.wait_for(3)

    assert [c.path for c in callbacks] == [path] * 3
    for callback in callbacks:
        assert RequestValidator(DEFAULT_AUTH_TOKEN).validate(
            callback.url, callback.params, callback.signature
        )


def test_it_signs_with_the_configured_auth_token(sandbox_factory: SandboxFactory, phone_sink):
    token = "0123456789abcdef" * 2
    sandbox = sandbox_factory(auth_token=token)
    send(sandbox, phone_sink)

    callbacks = phone_sink.wait_for(3)

    for callback in callbacks:
        assert RequestValidator(token).validate(callback.url, callback.params, callback.signature)
        assert not RequestValidator(DEFAULT_AUTH_TOKEN).validate(
            callback.url, callback.params, callback.signature
        )


def test_it_shuffles_callbacks_when_asked(sandbox_factory: SandboxFactory, phone_sink):
    sandbox = sandbox_factory(shuffle_callbacks=True, seed=7)
    sids = [send(sandbox, phone_sink, Body=f"message {i}") for i in range(8)]

    phone_sink.wait_for(3 * len(sids))

    orders = [statuses(phone_sink.callbacks_of(sid)) for sid in sids]
    for order in orders:
        assert sorted(order) == sorted(CANONICAL)
    assert any(order != CANONICAL for order in orders), orders
    # Whatever the order of the callbacks, the message ends in its final status.
    for sid in sids:
        assert sandbox.fetch_message(sid)["status"] == "delivered"


def test_it_duplicates_callbacks_when_asked(sandbox_factory: SandboxFactory, phone_sink):
    sandbox = sandbox_factory(duplicate_callbacks=True, seed=7)
    message_sid = send(sandbox, phone_sink)

    callbacks = phone_sink.wait_for(6)

    assert statuses(callbacks) == ["queued", "queued", "sent", "sent", "delivered", "delivered"]
    assert {c.params["MessageSid"] for c in callbacks} == {message_sid}
    for callback in callbacks:
        assert RequestValidator(DEFAULT_AUTH_TOKEN).validate(
            callback.url, callback.params, callback.signature
        )
    assert sandbox.stats()["callbacks"]["posted"] == 6


def test_it_shuffles_and_duplicates_together(sandbox_factory: SandboxFactory, phone_sink):
    sandbox = sandbox_factory(duplicate_callbacks=True, shuffle_callbacks=True, seed=7)
    sids = [send(sandbox, phone_sink, Body=f"message {i}") for i in range(4)]

    phone_sink.wait_for(6 * len(sids))

    for sid in sids:
        assert Counter(statuses(phone_sink.callbacks_of(sid))) == Counter(CANONICAL * 2)
        assert sandbox.fetch_message(sid)["status"] == "delivered"


def test_it_fails_messages_at_the_failed_rate_with_30034(
    sandbox_factory: SandboxFactory, phone_sink
):
    sandbox = sandbox_factory(failed_rate=1.0)
    message_sid = send(sandbox, phone_sink)

    callbacks = phone_sink.wait_for(2)

    assert statuses(callbacks) == ["queued", "failed"]
    assert "ErrorCode" not in callbacks[0].params
    assert callbacks[1].params["ErrorCode"] == "30034"
    wait_until(lambda: sandbox.fetch_message(message_sid)["status"] == "failed", what="failed")
    assert sandbox.fetch_message(message_sid)["error_code"] == 30034


def test_it_leaves_messages_undelivered_at_the_undelivered_rate(
    sandbox_factory: SandboxFactory, phone_sink
):
    sandbox = sandbox_factory(undelivered_rate=1.0, seed=3)
    sids = [send(sandbox, phone_sink, Body=f"message {i}") for i in range(6)]

    phone_sink.wait_for(3 * len(sids))

    codes = set()
    for sid in sids:
        callbacks = phone_sink.callbacks_of(sid)
        assert statuses(callbacks) == ["queued", "sent", "undelivered"]
        assert "ErrorCode" not in callbacks[0].params
        assert "ErrorCode" not in callbacks[1].params
        codes.add(callbacks[2].params["ErrorCode"])
        fetched = sandbox.fetch_message(sid)
        assert fetched["status"] == "undelivered"
        assert fetched["error_code"] in (30003, 30007)
    assert codes <= {"30003", "30007"}


def test_it_draws_the_same_outcomes_from_the_same_seed(sandbox_factory: SandboxFactory, phone_sink):
    def outcomes(seed: int, path: str) -> list[str]:
        sandbox = sandbox_factory(undelivered_rate=0.3, failed_rate=0.3, seed=seed)
        sids = [send(sandbox, phone_sink, path=path, Body=str(i)) for i in range(12)]
        wait_until(
            lambda: all(
                sandbox.fetch_message(sid)["status"] in ("delivered", "undelivered", "failed")
                and phone_sink.callbacks_of(sid)
                and phone_sink.callbacks_of(sid)[-1].params["MessageStatus"]
                in ("delivered", "undelivered", "failed")
                for sid in sids
            ),
            what=f"the final callbacks to {path}",
        )
        return [
            f"{m['status']}:{m['error_code']}" for m in (sandbox.fetch_message(sid) for sid in sids)
        ]

    first = outcomes(11, "/first")
    again = outcomes(11, "/again")

    assert first == again
    assert len(set(first)) > 1, first


def test_it_waits_the_callback_delay_before_each_callback(
    sandbox_factory: SandboxFactory, phone_sink
):
    sandbox = sandbox_factory(callback_delay_ms=150)
    send(sandbox, phone_sink)

    callbacks = phone_sink.wait_for(3)

    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(callbacks)]
    assert statuses(callbacks) == CANONICAL
    assert all(gap >= 0.12 for gap in gaps), gaps


def test_it_moves_a_message_along_without_a_status_callback(sandbox, phone_sink):
    response = sandbox.create_message(To=PHONE, From=LOCAL, Body="no callback")
    message_sid = response.json()["sid"]

    wait_until(lambda: sandbox.fetch_message(message_sid)["status"] == "delivered", what="delivery")

    assert phone_sink.received() == []
    assert sandbox.stats()["callbacks"]["posted"] == 0


@pytest.mark.parametrize("answer", [200, 500])
def test_it_records_the_answers_to_its_callbacks(sandbox, phone_sink, answer):
    phone_sink.status = answer
    send(sandbox, phone_sink)
    phone_sink.wait_for(3)

    stats = wait_until(
        lambda: (s := sandbox.stats())["callbacks"]["posted"] == 3 and s, what="stats"
    )

    assert stats["callbacks"]["answers"] == {str(answer): 3}


def test_it_records_a_callback_that_could_not_be_posted(sandbox, phone_sink):
    # A port nobody listens on refuses the connection.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    response = sandbox.create_message(
        To=PHONE, From=LOCAL, Body="hi", StatusCallback=f"http://127.0.0.1:{closed_port}/status"
    )
    assert response.status_code == 201

    stats = wait_until(
        lambda: (s := sandbox.stats())["callbacks"]["posted"] == 3 and s, what="stats"
    )

    assert stats["callbacks"]["answers"] == {"error": 3}
    assert sandbox.fetch_message(response.json()["sid"])["status"] == "delivered"


def test_it_counts_a_duplicate_create_in_its_stats(sandbox, phone_sink):
    callback = f"{phone_sink.url}/status/order-1"
    first = sandbox.create_message(To=PHONE, From=LOCAL, Body="once", StatusCallback=callback)
    again = sandbox.create_message(To=PHONE, From=LOCAL, Body="once", StatusCallback=callback)
    single = send(sandbox, phone_sink, path="/status/order-2")
    sandbox.create_message(To=PHONE, From=LOCAL, Body="no callback")
    sandbox.create_message(To="bad", From=LOCAL, Body="refused", StatusCallback=callback)

    phone_sink.wait_for(9)
    stats = wait_until(
        lambda: (s := sandbox.stats())["callbacks"]["posted"] == 9 and s, what="stats"
    )

    assert first.status_code == again.status_code == 201
    assert single
    assert stats["creates"] == {callback: 2, f"{phone_sink.url}/status/order-2": 1}
    assert stats["messages"] == 4
    assert stats["callbacks"] == {"posted": 9, "answers": {"204": 9}, "retried": 0, "held": 0}
    assert stats["inbound"] == {"posted": 0, "answers": {}}


def test_a_slow_receiver_gets_every_callback_with_at_most_the_concurrency_in_flight(
    sandbox_factory,
):
    """A busy web server is not buried: the callbacks beyond ``callback_concurrency`` wait in
    the sandbox (as in Twilio's queue) instead of piling up until they time out."""
    import asyncio

    from aiohttp import web

    from tests.sandbox.conftest import BackgroundServer

    in_flight = 0
    most = 0
    received: list[str] = []

    async def slow(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        received.append((await request.post())["MessageStatus"])  # type: ignore[arg-type]
        in_flight -= 1
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/status", slow)
    receiver = BackgroundServer(app)
    receiver.start()
    try:
        sandbox = sandbox_factory(callback_concurrency=2, callback_delay_ms=0)
        for _ in range(6):
            response = sandbox.create_message(
                To=PHONE, From=LOCAL, Body="hi", StatusCallback=f"{receiver.url}/status"
            )
            assert response.status_code == 201, response.text
        wait_until(lambda: len(received) == 18, what="18 callbacks")
    finally:
        receiver.stop()

    assert most == 2
    assert Counter(received) == {"queued": 6, "sent": 6, "delivered": 6}
    wait_until(lambda: sandbox.stats()["callbacks"]["posted"] == 18, what="answers counted")
    assert sandbox.stats()["callbacks"]["answers"] == {"204": 18}
