"""`python manage.py run_twilio_sandbox`: started as a real process, as a developer would."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS
from tests.sandbox.conftest import PhoneSink

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def command(*args: str) -> list[str]:
    return [sys.executable, "manage.py", "run_twilio_sandbox", *args]


def environment() -> dict[str, str]:
    # The tests run with DEBUG off; a developer runs the sandbox with DEBUG on.
    return {**os.environ, "DEBUG": "true"}


class Running:
    """A started sandbox process whose stdout is read line by line in a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def first_lines(self, count: int) -> list[str]:
        lines: list[str] = []
        deadline = time.monotonic() + STARTUP_S
        while len(lines) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.process.poll() is not None and self.lines.empty()):
                pytest.fail(f"the sandbox printed only {lines} (exit {self.process.poll()})")
            try:
                lines.append(self.lines.get(timeout=min(remaining, 0.5)))
            except queue.Empty:
                continue
        return lines


@pytest.fixture
def run_sandbox() -> Iterator[Callable[..., Running]]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Running:
        process = subprocess.Popen(
            command(*args),
            cwd=ROOT,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return Running(process)

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def answered(url: str, auth: tuple[str, str]) -> requests.Response:
    """The first answer from a server that may still be starting."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            return requests.get(url, auth=auth, timeout=5)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_it_runs_the_sandbox_and_prints_what_a_script_needs(run_sandbox):
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    running = run_sandbox("--port", str(port), "--seed", "1")
    lines = running.first_lines(4)
    response = answered(
        f"{url}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}.json",
        (DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
    )

    text = "\n".join(lines)
    assert url in lines[0]
    assert DEFAULT_ACCOUNT_SID in text
    assert DEFAULT_AUTH_TOKEN in text
    assert ", ".join(DEFAULT_NUMBERS) in text
    assert response.status_code == 200
    assert response.json()["sid"] == DEFAULT_ACCOUNT_SID
    refused = requests.get(
        f"{url}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}.json",
        auth=(DEFAULT_ACCOUNT_SID, "0" * 32),
        timeout=5,
    )
    assert refused.status_code == 401
    assert refused.json()["code"] == 20003

    running.process.terminate()
    running.process.wait(timeout=10)
    # SIGTERM is a graceful stop.
    assert running.process.returncode == 0


def test_it_passes_its_flags_to_the_sandbox(run_sandbox, phone_sink: PhoneSink):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sid, token, number = "AC" + "12" * 16, "34" * 16, "+14155550177"

    running = run_sandbox(
        "--port",
        str(port),
        "--account-sid",
        sid,
        "--auth-token",
        token,
        "--numbers",
        number,
        "--failed-rate",
        "1",
        "--duplicate-callbacks",
        "--callback-delay-ms",
        "0",
        "--seed",
        "1",
    )
    running.first_lines(4)
    assert answered(f"{url}/2010-04-01/Accounts/{sid}.json", (sid, token)).status_code == 200
    created = requests.post(
        f"{url}/2010-04-01/Accounts/{sid}/Messages.json",
        data={
            "To": "+15005550123",
            "From": number,
            "Body": "hi",
            "StatusCallback": f"{phone_sink.url}/status",
        },
        auth=(sid, token),
        timeout=5,
    )

    assert created.status_code == 201, created.text
    callbacks = phone_sink.wait_for(4)
    assert [c.params["MessageStatus"] for c in callbacks] == [
        "queued",
        "queued",
        "failed",
        "failed",
    ]
    assert callbacks[-1].params["ErrorCode"] == "30034"
    for callback in callbacks:
        assert RequestValidator(token).validate(callback.url, callback.params, callback.signature)


def test_its_fault_flags_reach_the_sandbox_and_an_outage_closes_its_port(
    run_sandbox, phone_sink: PhoneSink
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    auth = (DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    messages = f"{url}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
    running = run_sandbox(
        *("--port", str(port), "--callback-delay-ms", "0", "--hold-callbacks"),
        *("--http-500-rate", "1", "--http-500-created-rate", "1"),
    )
    running.first_lines(4)
    answered(f"{url}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}.json", auth)
    form = {"To": "+15005550123", "From": DEFAULT_NUMBERS[0], "Body": "hi"}
    lost = requests.post(
        messages, data={**form, "StatusCallback": f"{phone_sink.url}/s"}, auth=auth, timeout=5
    )
    assert lost.status_code == 500  # created all the same, its callbacks held

    outage = requests.post(f"{url}/sandbox/outage", json={"seconds": 1}, timeout=5)

    assert outage.status_code == 202
    time.sleep(0.3)
    with pytest.raises(requests.ConnectionError, match=r"[Rr]efused"):
        requests.get(f"{url}/sandbox/stats", timeout=1)
    stats = answered(f"{url}/sandbox/stats", auth).json()
    assert stats["creates"] == {f"{phone_sink.url}/s": 1}
    assert stats["callbacks"]["held"] == 3
    assert phone_sink.received() == []
    running.process.terminate()
    running.process.wait(timeout=10)
    assert running.process.returncode == 0


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--failed-rate", "2"), "a rate is a fraction between 0 and 1"),
        (("--undelivered-rate", "-0.1"), "a rate is a fraction between 0 and 1"),
        (("--http-429-rate", "lots"), "--http-429-rate"),
        (("--undelivered-rate", "0.6", "--failed-rate", "0.6"), "add up to more than 1"),
        (("--numbers", "4155550100"), "--numbers must be E.164"),
        (("--latency-ms", "-5"), "milliseconds cannot be negative"),
        (("--callback-delay-ms", "-1"), "milliseconds cannot be negative"),
        (("--http-429-rate", "0.6", "--slow-rate", "0.6"), "add up to more than 1"),
        (("--http-500-created-rate", "1.5"), "a rate is a fraction between 0 and 1"),
        (("--slow-ms", "-1"), "milliseconds cannot be negative"),
        (("--callback-retries", "6"), "--callback-retries must be between 0 and 5"),
    ],
)
def test_it_refuses_a_bad_flag_value_with_a_clear_error(args, error):
    result = subprocess.run(
        command("--port", str(free_port()), *args),
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert error in result.stderr
    assert "Twilio sandbox listening" not in result.stdout
