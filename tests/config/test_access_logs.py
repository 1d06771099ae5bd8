"""Request lines of the web servers we run never carry a link's secret.

gunicorn (as docker-compose.yml runs it, with its access log) and `manage.py runserver` (as
`make run` runs it) each answer requests for token-bearing paths; whatever either writes
must show the paths with the token masked.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.config.test_settings import PRODUCTION

BASE_DIR = Path(__file__).resolve().parents[2]
SECRETS = {
    "invitation": "InvitationTokenAbCdEfGhIjKlMnOpQrStUvWxYz012",
    "reset": "d1xhob-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "inbound": "InboundKeyAbCdEfGhIjKlMnOpQrStUvWxYz0123456",
    "referer": "RefererTokenAbCdEfGhIjKlMnOpQrStUvWxYz01234",
    "next": "NextTokenAbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
}
REQUESTS = [
    (f"/invitations/{SECRETS['invitation']}/", {}),
    (f"/password-reset/MQ/{SECRETS['reset']}/", {}),
    (f"/webhooks/twilio/inbound/{SECRETS['inbound']}", {}),
    (f"/login/?next=/invitations/{SECRETS['next']}/", {}),
    ("/login/", {"Referer": f"https://hub.example.com/invitations/{SECRETS['referer']}/"}),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_and_collect(command: list[str], port: int, env: dict[str, str]) -> str:
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        for path, headers in REQUESTS:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}",
                headers={"Host": "hub.example.com", "X-Forwarded-Proto": "https", **headers},
            )
            # 4xx and 5xx answers are logged too; that is the point.
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
        time.sleep(0.5)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    return output


def server_env(tmp_path: Path, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    # An empty database: views that need tables fail with a 500, which is logged as well.
    env.update(PRODUCTION, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **changes)
    return env


def assert_masked(output: str, access_line: str) -> None:
    assert access_line in output, output[-3000:]
    for name, secret in SECRETS.items():
        assert secret not in output, f"the {name} secret was logged"
    assert "/invitations/[redacted]/" in output


@pytest.mark.timeout(90)
def test_gunicorn_as_composed_never_logs_a_token(tmp_path):
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    command = list(compose["services"]["web"]["command"])
    assert "--access-logfile" in command
    port = free_port()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"
    output = serve_and_collect(
        [sys.executable, "-m", *command], port, server_env(tmp_path, TRUSTED_PROXY_COUNT="1")
    )
    assert_masked(output, "gunicorn.access")


@pytest.mark.timeout(90)
def test_runserver_as_make_run_starts_it_never_logs_a_token(tmp_path):
    port = free_port()
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    env = server_env(tmp_path, DEBUG="true", ALLOWED_HOSTS="hub.example.com")
    env.pop("EMAIL_URL")
    output = serve_and_collect(command, port, env)
    assert_masked(output, "django.server")
