"""What the fault cases that stop the stack's own servers share (cases 1-4): the whole stack on
a private PostgreSQL and Redis (``bench.faults.services``), Django set up against them, the
processes started as docker-compose runs them, a process killed with SIGKILL, and waiting for
the stack to go quiet.

Nothing Django is imported here at module level: ``fault_stack`` sets Django up once the
private servers run, and a case imports ``bench.faults.world`` (models, services) after that.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.faults.outcome import Outcome
from bench.faults.services import Services, private_services
from bench.stack import (
    Child,
    free_port,
    get_json,
    print_log_problems,
    set_stack_environment,
    start,
    start_beat,
    start_web,
    start_worker,
    stop,
    wait_for_port,
)

WEB_WORKERS = 3  # docker-compose's web
SEND_THREADS = 16  # docker-compose's worker-send
DEFAULT_PROCESSES = 2  # docker-compose's worker


def case_options(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="the short version, for CI")
    parser.add_argument("--out", type=Path, required=True, help="where the outcome is written")
    return parser.parse_args()


@dataclass
class Stack:
    services: Services
    logs: Path
    sandbox_port: int
    web_port: int
    children: list[Child] = field(default_factory=list)
    # docker-compose's ``restart: unless-stopped``: a process that exits by itself is started
    # again (``watch``), one killed on purpose (``kill9``) or stopped at the end is not.
    restarted: list[str] = field(default_factory=list)
    stopping: bool = False
    killed: set[int] = field(default_factory=set)

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def sandbox(self, *options: str, latency_ms: int = 50, callback_delay_ms: int = 200) -> Child:
        """``bench.stack.start_sandbox``'s sandbox with more of its options (its faults)."""
        command = [sys.executable, "manage.py", "run_twilio_sandbox"]
        command += ["--port", str(self.sandbox_port), "--latency-ms", str(latency_ms)]
        command += ["--callback-delay-ms", str(callback_delay_ms)]
        sandbox = self._add(start("sandbox", [*command, *options], self.logs))
        wait_for_port(self.sandbox_port, "the sandbox did not start", process=sandbox.process)
        return sandbox

    def web(self) -> Child:
        return self._add(start_web(self.logs, port=self.web_port, workers=WEB_WORKERS))

    def send_worker(self, name: str = "send") -> Child:
        return self._add(
            start_worker(
                self.logs, queue="send", pool="threads", concurrency=SEND_THREADS, name=name
            )
        )

    def default_worker(self, name: str = "default") -> Child:
        return self._add(
            start_worker(
                self.logs, queue="default", pool="prefork", concurrency=DEFAULT_PROCESSES, name=name
            )
        )

    def beat(self) -> Child:
        return self._add(start_beat(self.logs))

    def kill9(self, child: Child) -> None:
        self.killed.add(child.process.pid)
        kill9(child)

    def watch(self) -> None:
        """Starts the restart policy, on a thread of its own, for the rest of the case."""
        threading.Thread(target=self._restart_exited, daemon=True).start()

    def _restart_exited(self) -> None:
        while not self.stopping:
            for index, child in enumerate(list(self.children)):
                code = child.process.poll()
                if code is None or child.process.pid in self.killed or self.stopping:
                    continue
                name = f"{child.name}-restarted-{len(self.restarted) + 1}"
                command = [str(arg) for arg in child.process.args]  # type: ignore[union-attr]
                self.children[index] = start(name, command, self.logs)
                self.restarted.append(f"{child.name} exited (code {code}): started again")
                print(self.restarted[-1], flush=True)
            time.sleep(1.0)

    def _add(self, child: Child) -> Child:
        self.children.append(child)
        return child

    def stats(self) -> dict[str, Any]:
        """The sandbox's ``/sandbox/stats``: creates per status-callback URL (one URL per
        message), callbacks posted and their answers, faults drawn."""
        return dict(get_json(f"{self.sandbox_url}/sandbox/stats"))

    def creates(self) -> dict[str, int]:
        return dict(self.stats()["creates"])

    def release_callbacks(self) -> int:
        """The status callbacks a ``--hold-callbacks`` sandbox kept back go out now, and the
        later ones as they come; returns how many were held."""
        request = urllib.request.Request(  # noqa: S310 - our sandbox
            f"{self.sandbox_url}/sandbox/callbacks/release",
            data=json.dumps({"hold": False}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return int(json.loads(answer.read())["released"])


def kill9(child: Child) -> None:
    """``kill -9`` the process and its own children (a prefork worker's pool processes): its
    whole session, as when a container or a machine dies. Only that session, by its id."""
    os.killpg(child.process.pid, signal.SIGKILL)
    child.process.wait(timeout=10)


@contextmanager
def fault_stack(name: str) -> Iterator[Stack]:
    """The private servers running, this process's environment (and so its children's)
    pointing at them and at the sandbox and web ports, Django set up; the children stopped
    and the servers removed at the end."""
    signal.signal(signal.SIGTERM, lambda *_: exit(143))  # the suite's stop unwinds through here
    # bench.pages' settings for a benchmark, already wanted by the migration before it
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleS0=")
    os.environ.setdefault("EMAIL_URL", "locmem://")
    with private_services(name) as services:
        logs = Path(tempfile.mkdtemp(prefix=f"faults-{name}-logs-"))
        stack = Stack(services, logs, free_port(), free_port())
        set_stack_environment(
            redis_url=services.redis.url(), sandbox_url=stack.sandbox_url, web_url=stack.web_url
        )
        import bench.pages  # noqa: F401 - sets Django up, against the private database

        print(f"logs in {stack.logs}", flush=True)
        try:
            yield stack
        finally:
            stack.stopping = True
            stop(stack.children)
            print_log_problems(stack.children)
            from django.db import connection

            connection.close()


def wait_until(
    done: Callable[[], bool], *, seconds: float, every: float = 0.5, what: str = ""
) -> bool:
    """Polls ``done`` until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            if what:
                print(f"after {seconds:.0f} s, still not {what}", flush=True)
            return False
        time.sleep(every)
    return True


def wait_for_quiet(
    state: Callable[[], Any], *, quiet_s: float = 3.0, seconds: float = 120.0
) -> Any:
    """``state()`` once it has not changed for ``quiet_s`` (or after ``seconds``): the stack
    has done what it will do by itself for now."""
    deadline = time.monotonic() + seconds
    last, since = state(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = state()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last


def finish(outcome: Outcome, path: Path) -> None:
    outcome.write(path)
    print(
        f"{outcome.case}: {outcome.messages} messages, {outcome.sent} sent, {outcome.lost} lost, "
        f"{outcome.duplicated} duplicated: {'held' if outcome.held else 'DID NOT HOLD'}"
    )
    for note in outcome.notes:
        print(f"  {note}")
    for check, ok in outcome.checks.items():
        print(f"  {'ok' if ok else 'FAILED'}: {check}")
