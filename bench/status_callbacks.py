"""Status callbacks through gunicorn and PostgreSQL, against an empty Django view.

Creates a scratch database (``test_<name>`` beside ``DATABASE_URL``'s), one connected
organization and N messages, starts gunicorn (sync workers) on the app, then drives two loads
from one client in turn: an empty view, and signed status callbacks (each a different message
and status, so every request verifies a signature, records an event and moves a status). Prints
both request rates and their ratio. Target: callbacks at no less than half the empty view's rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.status_callbacks [--messages 2000] [--workers 2] \\
        [--without-rollup]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleS0=")
os.environ.setdefault("EMAIL_URL", "locmem://")  # benchmarks send no e-mail
os.environ["PUBLIC_BASE_URL"] = "https://bench.example.com"

import django

django.setup()

from aiohttp import ClientSession, TCPConnector  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from bench.stack import (  # noqa: E402
    database_url,
    delivered_callback,
    free_port,
    queued_messages,
    wait_for_port,
)
from messaging.models import Message, Status  # noqa: E402
from messaging.rollup_sql import uninstall_statements  # noqa: E402

BASE_DIR = Path(__file__).resolve().parent.parent


Request = tuple[str, bytes, dict[str, str]]


async def load(requests: list[Request], concurrency: int) -> float:
    """Sends every (url, body, headers) once from ``concurrency`` connections: requests/s.

    Bodies are encoded beforehand, so that the client spends as little of the machine as it
    can, and the same on both loads."""
    queue = list(reversed(requests))
    failures = 0

    async def client(session: ClientSession) -> None:
        nonlocal failures
        while queue:
            url, body, headers = queue.pop()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status >= 300:
                    failures += 1

    started = time.perf_counter()
    async with ClientSession(connector=TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{failures} requests failed")
    return len(requests) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="callbacks per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--without-rollup",
        action="store_true",
        help="drop the message rollup's triggers first (to measure what they cost)",
    )
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: this measures PostgreSQL.")
    databases = setup_databases(verbosity=0, interactive=False)
    server = None
    try:
        _organization, messages = queued_messages(options.messages * options.rounds)
        if options.without_rollup:
            with connection.cursor() as cursor:
                for statement in uninstall_statements(connection.vendor):
                    cursor.execute(statement)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url(), "ALLOWED_HOSTS": "127.0.0.1"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bench.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(options.workers),
                "--threads",
                str(options.threads),
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        proxy = {"X-Forwarded-Proto": "https"}
        wait_for_port(port, "gunicorn did not start")
        form_type = {**proxy, "Content-Type": "application/x-www-form-urlencoded"}
        callbacks: list[Request] = []
        empties: list[Request] = []  # the same bodies, posted to the empty view
        for message in messages:
            path, form, signature = delivered_callback(message)
            body = urlencode(form).encode()
            callbacks.append((base + path, body, {**form_type, "X-Twilio-Signature": signature}))
            empties.append((f"{base}/bench/empty", body, form_type))
        asyncio.run(load(empties[:200], options.concurrency))  # warm up both paths
        asyncio.run(load(empties[:200], options.concurrency))
        print(
            f"machine: {os.cpu_count()} cores; gunicorn {options.workers} workers, "
            f"{options.threads} threads; {options.concurrency} client connections; PostgreSQL; "
            f"{options.rounds} rounds of {options.messages} requests each, alternating"
        )
        ratios = []
        for start in range(0, len(callbacks), options.messages):
            empty_rate = asyncio.run(
                load(empties[start : start + options.messages], options.concurrency)
            )
            callback_rate = asyncio.run(
                load(callbacks[start : start + options.messages], options.concurrency)
            )
            ratios.append(callback_rate / empty_rate)
            print(
                f"empty view {empty_rate:6.0f}/s   status callbacks {callback_rate:6.0f}/s   "
                f"ratio {ratios[-1]:.2f}"
            )
        delivered = Message.objects.filter(status=Status.DELIVERED).count()
        if delivered != len(callbacks):
            raise SystemExit(f"only {delivered} of {len(callbacks)} messages became delivered")
        print(f"median ratio: {statistics.median(ratios):.2f} (target at least 0.50)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        connection.close()
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
