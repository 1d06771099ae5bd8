"""``make run``: the whole product on one machine, with no services installed.

Writes a development ``.env`` once (a generated secret key, field-encryption key and demo
password, reused on later runs), migrates, makes sure the demo login exists, then runs the web
server, one Celery worker per queue and beat as child processes. Their output is interleaved
with a name prefix; one Ctrl-C stops them all, and if one dies the others are stopped too.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_FILE = BASE_DIR / ".env"
HOST, PORT = "127.0.0.1", 8000
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


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def children() -> dict[str, list[str]]:
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    return {
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


def pump(name: str, stream: object) -> None:
    width = max(len(n) for n in children())
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        sys.stdout.write(f"{name:<{width}} | {line}")
        sys.stdout.flush()


def main() -> int:
    ensure_env_file()
    env = load_env_file()
    env["PYTHONUNBUFFERED"] = "1"
    (BASE_DIR / "var").mkdir(exist_ok=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "setup_demo", "--email", DEMO_EMAIL, "--password", env["DEMO_PASSWORD"])

    processes: dict[str, subprocess.Popen[str]] = {}
    for name, command in children().items():
        processes[name] = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=pump, args=(name, processes[name].stdout), daemon=True).start()

    print(
        f"\nSMS Hub is starting at http://{HOST}:{PORT}/login/\n"
        f"  log in as {DEMO_EMAIL} with password {env['DEMO_PASSWORD']}\n"
        "  Ctrl-C stops the web server, the workers and beat.\n",
        flush=True,
    )
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

    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
