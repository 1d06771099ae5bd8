"""CPU of the send task per message, in one thread, and where it goes (cProfile, CPU time).

Creates a scratch PostgreSQL database (``test_<name>`` next to ``DATABASE_URL``'s), connects
one organization to the Twilio sandbox (started here on a free port, answering at once, its
status callbacks pointed at a port nobody listens on), creates N ``pending`` messages, then
runs the send task's work (``messages_submit``) over them in batches as the send worker does,
and prints the process CPU per message (with and without the profiler) and the profile's top
entries grouped by package. The sandbox runs in its own process, so its CPU is not counted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.send_cpu [--messages 2000] [--batch 125]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.stack import free_port, wait_for_port
from bench.twilio_rows import twilio_row

# The seam's base URLs must point at the sandbox before Django reads its settings.
SANDBOX_PORT = free_port()
os.environ["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{SANDBOX_PORT}"
os.environ["TWILIO_MESSAGING_BASE_URL"] = f"http://127.0.0.1:{SANDBOX_PORT}"
os.environ["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{free_port()}"  # callbacks go nowhere
os.environ.pop("REDIS_URL", None)  # the limiter in process: Redis is not what is measured

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from bench.contacts_list import fill  # noqa: E402
from bench.pages import machine, require_postgresql  # noqa: E402
from contacts.models import Contact  # noqa: E402
from messaging.models import Message, Status  # noqa: E402
from messaging.services import sending, submit  # noqa: E402
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS  # noqa: E402
from tenants.models import Organization  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("django", "twilio", "requests", "urllib3", "psycopg", "celery", "kombu", "json")


def start_sandbox() -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_twilio_sandbox", "--port", str(SANDBOX_PORT)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(SANDBOX_PORT, "the sandbox did not start", process=process)
    return process


def prepare(count: int) -> list[int]:
    owner = fill(count)
    organization = Organization.objects.get(memberships__user=owner)
    twilio_row(
        organization,
        account_sid=DEFAULT_ACCOUNT_SID,
        auth_token=DEFAULT_AUTH_TOKEN,
        phone_number=DEFAULT_NUMBERS[0],
        send_rate=9_999,  # the limiter always has a slot: its CPU is measured, not its waits
    )

    def enqueue_nothing(message_ids: list[int], *, total: int | None = None) -> None:
        """The batches are sent below, in this process."""

    sending.send_batches = enqueue_nothing  # type: ignore[attr-defined]
    result = sending.message_send_many(
        organization=organization,
        contacts=Contact.objects.filter(organization=organization).order_by("pk"),
        body="Our spring sale starts today. Reply STOP to opt out.",
        source="automation",
    )
    return [pk for pk in result.message_ids if pk]


def run(ids: list[int], batch: int) -> float:
    """CPU seconds of the process to send these."""
    started = time.process_time()
    for start in range(0, len(ids), batch):
        submit.messages_submit(ids[start : start + batch])
    return time.process_time() - started


def by_package(stats: pstats.Stats) -> dict[str, float]:
    """Own time (tottime) of every function, summed by the package its file is in."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        part = next((p for p in PACKAGES if f"/{p}/" in filename), None)
        if part is None:
            part = (
                "project" if filename.startswith(str(ROOT)) and ".venv" not in filename else "other"
            )
        totals[part] += tottime
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=125)
    options = parser.parse_args()
    require_postgresql()
    sandbox = start_sandbox()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        print(machine())
        ids = prepare(options.messages * 2)
        half = len(ids) // 2
        cpu = run(ids[:half], options.batch)
        print(f"{half:,} messages: {cpu / half * 1000:.2f} ms of CPU per message (no profiler)")
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits on sockets
        profiler.enable()
        run(ids[half:], options.batch)
        profiler.disable()
        stats = pstats.Stats(profiler)
        total = sum(by_package(stats).values())
        print("own time by package, with the profiler on:")
        for part, seconds in by_package(stats).items():
            print(f"  {part:<10} {seconds / total:6.1%}")
        stats.sort_stats("tottime").print_stats(15)
        if os.environ.get("PROFILE_DUMP"):
            stats.dump_stats(os.environ["PROFILE_DUMP"])
        sent = Message.objects.filter(pk__in=ids).exclude(status=Status.PENDING).count()
        print(f"sent: {sent:,} of {len(ids):,}")
        connection.close()
    finally:
        teardown_databases(databases, verbosity=0)
        sandbox.terminate()


if __name__ == "__main__":
    main()
