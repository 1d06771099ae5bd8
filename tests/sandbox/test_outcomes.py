"""A phone's set outcome: every later message to it ends so, whatever the sandbox's rates."""

from __future__ import annotations

import pytest

from sandbox.state import DEFAULT_NUMBERS
from tests.sandbox.conftest import PhoneSink, Sandbox
from tests.sandbox.test_callbacks import send, statuses

LOCAL = DEFAULT_NUMBERS[0]
PHONE = "+15005550123"
OTHER = "+15005550124"


def final_callback(sandbox: Sandbox, sink: PhoneSink, path: str, count: int) -> dict[str, str]:
    return sink.wait_for(count, path)[-1].params


@pytest.mark.parametrize(
    ("outcome", "path", "code"),
    [
        ("undelivered-30003", ["queued", "sent", "undelivered"], "30003"),
        ("undelivered-30007", ["queued", "sent", "undelivered"], "30007"),
        ("failed-30034", ["queued", "failed"], "30034"),
    ],
)
def test_a_phone_set_to_an_outcome_gets_it_with_its_error_code(
    sandbox, phone_sink, outcome, path, code
):
    answer = sandbox.session.post(
        f"{sandbox.url}/sandbox/outcomes", json={"phone": PHONE, "outcome": outcome}, timeout=10
    )
    assert answer.json() == {"phone": PHONE, "outcome": outcome}

    message_sid = send(sandbox, phone_sink, path="/set", To=PHONE)
    send(sandbox, phone_sink, path="/other", To=OTHER)

    callbacks = phone_sink.wait_for(len(path), "/set")
    assert statuses(callbacks) == path
    assert callbacks[-1].params["ErrorCode"] == code
    assert sandbox.fetch_message(message_sid)["error_code"] == int(code)
    # Another phone still draws from the rates (none set: delivered).
    assert statuses(phone_sink.wait_for(3, "/other")) == ["queued", "sent", "delivered"]


def test_random_goes_back_to_the_rates(sandbox, phone_sink):
    for outcome in ("failed-30034", "random"):
        sandbox.session.post(
            f"{sandbox.url}/sandbox/outcomes", json={"phone": PHONE, "outcome": outcome}, timeout=10
        )

    send(sandbox, phone_sink, To=PHONE)

    assert statuses(phone_sink.wait_for(3)) == ["queued", "sent", "delivered"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"phone": PHONE, "outcome": "lost"}, "Unknown outcome 'lost'"),
        ({"phone": "415 555", "outcome": "delivered"}, "is not a phone number in E.164"),
    ],
)
def test_a_wrong_outcome_or_phone_is_refused_and_changes_nothing(sandbox, data, error):
    answer = sandbox.session.post(f"{sandbox.url}/sandbox/outcomes", json=data, timeout=10)

    assert answer.status_code == 400
    assert error in answer.json()["error"]
    assert "Next messages end" not in sandbox.session.get(f"{sandbox.url}/sandbox/").text


def test_the_phones_page_sets_a_phones_outcome_from_its_form(sandbox, phone_sink):
    send(sandbox, phone_sink, To=PHONE)
    page = sandbox.session.get(f"{sandbox.url}/sandbox/", timeout=10).text
    assert '<label for="outcome-phone-15005550123">Next messages end</label>' in page
    assert '<option value="random" selected>' in page

    answer = sandbox.session.post(
        f"{sandbox.url}/sandbox/outcomes",
        data={"phone": PHONE, "outcome": "undelivered-30007"},
        allow_redirects=False,
        timeout=10,
    )

    assert answer.status_code == 303
    assert answer.headers["Location"] == "/sandbox/#phone-15005550123"
    page = sandbox.session.get(f"{sandbox.url}/sandbox/", timeout=10).text
    assert '<option value="undelivered-30007" selected>' in page
