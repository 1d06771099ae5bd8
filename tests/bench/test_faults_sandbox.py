"""What the Twilio fault cases (``twilio_faults``, ``callbacks_and_races``) count and how they
let time pass (``bench.faults.sandboxed``): only rows time is waited on are moved, an in-flight
call never; settled, sent, lost and duplicated per message; the web's callback answers.
The sandbox's fault behaviours themselves: tests/sandbox/test_faults.py and
test_late_callbacks.py."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from bench.faults import sandboxed
from bench.stack import Child
from messaging.models import Message, MessageEvent, Status

pytestmark = pytest.mark.django_db


def message(personas: Any, n: int, **fields: Any) -> Message:
    return Message.objects.create(
        organization=personas.org, to=f"+1415555{n:04d}", body="Hi", **fields
    )


def test_time_passes_ends_backoffs_and_ages_unknown_outcomes_but_never_a_call_in_flight(
    personas,
):
    now = timezone.now()
    later = now + datetime.timedelta(seconds=90)
    backoff = message(personas, 1, status=Status.PENDING, send_after=later)
    countdown = message(personas, 2, status=Status.PENDING, send_after=later, enqueued_at=now)
    unknown = message(
        personas,
        3,
        status=Status.SUBMITTING,
        submitted_at=now,
        error_message="Internal Server Error",
    )
    in_flight = message(personas, 4, status=Status.SUBMITTING, submitted_at=now)
    long_ago = now - datetime.timedelta(minutes=10)
    old_unknown = message(
        personas, 5, status=Status.SUBMITTING, submitted_at=long_ago, error_message="timeout"
    )

    assert sandboxed.time_passes(personas.org) == (1, 1)

    rows = {m.pk: m for m in Message.objects.all()}
    ended, aged = rows[backoff.pk].send_after, rows[unknown.pk].submitted_at
    assert ended is not None
    assert ended <= timezone.now()
    assert rows[countdown.pk].send_after == later  # its send task waits with a countdown
    assert aged is not None
    assert datetime.timedelta(seconds=60) < timezone.now() - aged < datetime.timedelta(seconds=70)
    assert rows[in_flight.pk].submitted_at == in_flight.submitted_at
    assert rows[old_unknown.pk].submitted_at == long_ago  # never pushed out of the match window


def test_counts_take_sent_and_duplicated_from_the_sandbox_and_lost_from_the_database(
    personas, monkeypatch: pytest.MonkeyPatch
):
    delivered = message(personas, 1, status=Status.DELIVERED)
    twice = message(personas, 2, status=Status.UNDELIVERED)
    message(personas, 3, status=Status.SUPPRESSED)
    message(personas, 4, status=Status.SUBMITTING, needs_attention=True)
    stuck = message(personas, 5, status=Status.QUEUED)
    base = "https://hub.example.com/webhooks/twilio/status"
    creates = {f"{base}/{delivered.public_id}": 1, f"{base}/{twice.public_id}": 2}
    creates[f"{base}/{stuck.public_id}"] = 1
    creates[f"{base}/not-ours"] = 3
    monkeypatch.setattr(sandboxed, "get_json", lambda url: {"creates": creates})

    assert sandboxed.counts(personas.org, "http://sandbox") == (5, 3, 1, 1)
    assert sandboxed.unsettled(personas.org) == 1


def test_histories_name_what_a_message_went_through(personas):
    twice = message(personas, 1, status=Status.DELIVERED)
    MessageEvent.objects.create(message=twice, status="resent", params={})
    message(personas, 2, status=Status.DELIVERED)
    gave_up = message(personas, 3, status=Status.FAILED, attempts=5)
    MessageEvent.objects.create(message=gave_up, status="retry", error_code=20429, params={})
    creates = {f"https://hub.example.com/webhooks/twilio/status/{twice.public_id}": 2}

    lines = sandboxed.histories(personas.org, creates)

    assert len(lines) == 2
    assert lines[0].startswith(f"created twice: {twice.public_id} (delivered): ")
    assert lines[0].endswith(" resent")
    assert lines[1].startswith(f"not delivered: {gave_up.public_id} (failed): ")
    assert lines[1].endswith(" retry 20429")
    assert sandboxed.histories(personas.org, creates, not_delivered=False) == lines[:1]
    assert sandboxed.gave_up(personas.org) == 1


def test_a_status_callback_answered_other_than_2xx_fails_the_check(tmp_path: Path):
    log = tmp_path / "web.log"
    path = "/webhooks/twilio/status/0b7f"
    log.write_text(
        f'127.0.0.1 - - [03/Dec/2026:18:58:56 +0000] "POST {path} HTTP/1.1" 204 0 "-" "T"\n'
        f'127.0.0.1 - - [03/Dec/2026:18:58:57 +0000] "POST {path} HTTP/1.1" 503 0 "-" "T"\n'
        '127.0.0.1 - - [03/Dec/2026:18:58:57 +0000] "GET /healthz HTTP/1.1" 500 0 "-" "T"\n'
    )
    web = Child("web", subprocess.Popen(["true"]), log)
    web.process.wait()

    ok, note = sandboxed.callbacks_answered_2xx(web)

    assert not ok
    assert note == "status callbacks answered by the web: {'204': 1, '503': 1}"
    log.write_text(log.read_text().replace('" 503', '" 204'))
    assert sandboxed.callbacks_answered_2xx(web)[0]
