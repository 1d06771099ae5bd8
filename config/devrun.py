"""``make run``: the whole product on one machine, with no services installed.

Writes a development ``.env`` once (a generated secret key, field-encryption key and demo
password, reused on later runs), migrates, makes sure the demo login and its organization
exist, then runs the Twilio sandbox, the web server, one Celery worker per queue and beat as
child processes. Unless ``TWILIO_API_BASE_URL`` is set (in the environment or ``.env``), the app
talks to the sandbox, and the demo organization is connected to it once, through the normal
connect flow. Once the web server answers, ``setup_demo --with-data`` fills the demo
organization (the first time; later runs change nothing). Output is interleaved with a name
prefix; one Ctrl-C stops everything, and if one process dies the others are stopped too.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, cast

from cryptography.fernet import Fernet

from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_FILE = BASE_DIR / ".env"
HOST, PORT = "127.0.0.1", 8000
SANDBOX_PORT = 8010
SANDBOX_URL = f"http://{HOST}:{SANDBOX_PORT}"
DEMO_EMAIL = "demo@example.com"


def ensure_env_file() -> None:
    if ENV_FILE.exists():
        return
    ENV_FILE.write_text(
        "# Written once by `make run` for development; never use these values in production.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
        f"DEMO_PASSWORD={secrets.token_urlsafe(12)}\n"
    )
    ENV_FILE.chmod(0o600)
    print(f"Wrote development settings to {ENV_FILE.name}")


def load_env_file() -> dict[str, str]:
    """The .env values, under anything already set in the environment."""
    values: dict[str, str] = {}
    for line in ENV_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return {**values, **os.environ}


def manage(env: dict[str, str], *args: str) -> str:
    """Runs a management command; returns its last line of output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    print(result.stdout, end="")
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def children(use_sandbox: bool) -> dict[str, list[str]]:
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    commands = {
        "web": [sys.executable, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"],
        "worker": [
            *celery,
            "worker",
            "-Q",
            "default",
            "-P",
            "prefork",
            "-c",
            "2",
            "-n",
            "default@%h",
            "--loglevel",
            "INFO",
        ],
        "sender": [
            *celery,
            "worker",
            "-Q",
            "send",
            "-P",
            "threads",
            "-c",
            "8",
            "-n",
            "send@%h",
            "--loglevel",
            "INFO",
        ],
        "beat": [*celery, "beat", "--loglevel", "INFO"],
    }
    if use_sandbox:
        sandbox = [sys.executable, "manage.py", "run_twilio_sandbox", "--port", str(SANDBOX_PORT)]
        commands = {"sandbox": sandbox, **commands}
    return commands


def pump(name: str, stream: IO[str], width: int) -> None:
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{name:<{width}} | {line}")
        sys.stdout.flush()


def wait_for_port(port: int, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The process for port {port} exited with code {process.returncode}.")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"Nothing answered on port {port} after {seconds:.0f} s.")


def start(
    processes: dict[str, subprocess.Popen[str]], env: dict[str, str], use_sandbox: bool, slug: str
) -> None:
    commands = children(use_sandbox)
    width = max(len(name) for name in commands)
    for name, command in commands.items():
        processes[name] = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        stream = cast(IO[str], processes[name].stdout)  # stdout=PIPE: never None
        threading.Thread(target=pump, args=(name, stream, width), daemon=True).start()
        if name == "sandbox":
            wait_for_port(SANDBOX_PORT, processes[name])
            # Once: the demo organization meets the sandbox through the real connect flow.
            manage(
                env,
                "connect_twilio",
                slug,
                "--account-sid",
                DEFAULT_ACCOUNT_SID,
                "--auth-token",
                DEFAULT_AUTH_TOKEN,
                "--phone-number",
                DEFAULT_NUMBERS[0],
                "--configure-number",
                "--if-not-connected",
            )


def fill_demo(env: dict[str, str], use_sandbox: bool, web: subprocess.Popen[str]) -> None:
    """Once the web server answers (the sandbox's webhooks need it), fills the demo
    organization; later runs find it filled and change nothing."""
    try:
        wait_for_port(PORT, web)
        command = ["setup_demo", "--password", env["DEMO_PASSWORD"], "--with-data"]
        manage(env, *command, *(["--sandbox", SANDBOX_URL] if use_sandbox else []))
    except (subprocess.CalledProcessError, SystemExit) as exc:
        print(f"The demo data could not be filled: {exc}", file=sys.stderr)


def stop_all(processes: dict[str, subprocess.Popen[str]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    ensure_env_file()
    env = load_env_file()
    env["PYTHONUNBUFFERED"] = "1"
    use_sandbox = "TWILIO_API_BASE_URL" not in env
    if use_sandbox:
        for name in ("TWILIO_API_BASE_URL", "TWILIO_MESSAGING_BASE_URL", "TWILIO_PRICING_BASE_URL"):
            env[name] = SANDBOX_URL
    (BASE_DIR / "var").mkdir(exist_ok=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    slug = manage(env, "setup_demo", "--email", DEMO_EMAIL, "--password", env["DEMO_PASSWORD"])

    processes: dict[str, subprocess.Popen[str]] = {}
    try:
        start(processes, env, use_sandbox, slug)
    except (subprocess.CalledProcessError, SystemExit) as exc:
        print(f"Start-up failed: {exc}", file=sys.stderr)
        stop_all(processes)
        return 1

    print(
        f"\nSMS Hub is starting at http://{HOST}:{PORT}/login/\n"
        f"  log in as {DEMO_EMAIL} with password {env['DEMO_PASSWORD']}\n"
        + (f"  Twilio sandbox phones: {SANDBOX_URL}/sandbox/\n" if use_sandbox else "")
        + "  Ctrl-C stops everything.\n",
        flush=True,
    )
    threading.Thread(
        target=fill_demo, args=(env, use_sandbox, processes["web"]), daemon=True
    ).start()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with code {process.returncode}; stopping the others.")
                exit_code = process.returncode or 1
                stopping = True
                break
        time.sleep(0.5)

    stop_all(processes)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
