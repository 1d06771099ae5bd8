"""What a run of ``bench.send_pipeline`` measured (``Run``), its figures (the ones that module's
docstring lists) and the report it prints.

``bench.send_pipeline`` imports this once it has set its environment (``bench.pages`` sets
Django up).
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.cpu import cpu_report
from bench.pages import machine
from bench.results import Figure
from messaging.models import FINAL

CALLBACKS_PER_MESSAGE = 3  # queued, sent, delivered (a From number, no Messaging Service)
FINAL_STATUSES = [str(status) for status in FINAL]


@dataclass
class Run:
    messages: int
    send_many_s: float = 0.0
    send_many_cpu_s: float = 0.0
    first_claim_s: float = 0.0  # after the call began
    last_accept_s: float = 0.0
    drained_s: float | None = None  # every message out of pending/submitting
    settled_s: float = 0.0  # every sent message final, or the grace period over
    accepted: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    sessions: int = 0
    sandbox: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, float] = field(default_factory=dict)
    foreign: list[tuple[str, float]] = field(default_factory=list)  # other processes, by name
    callback_events: int = 0  # Twilio's callbacks recorded in the database
    callbacks_answered: Counter[str] = field(default_factory=Counter)  # gunicorn's access log

    @property
    def throughput(self) -> float:
        span = self.last_accept_s - self.first_claim_s
        return self.accepted / span if span > 0 else 0.0

    def per_send_ms(self, name: str) -> float:
        return self.cpu[name] / max(self.accepted, 1) * 1000


def lost_callbacks(stats: dict[str, Any]) -> int:
    """Callbacks the sandbox owed (three per message it created) minus those answered 2xx:
    failed to deliver, refused, timed out, or never posted."""
    owed = CALLBACKS_PER_MESSAGE * int(stats["messages"])
    answered = sum(n for code, n in stats["callbacks"]["answers"].items() if code.startswith("2"))
    return owed - answered


def cpu_per_send(result: Run, figure: str, process: str, target: float) -> Figure:
    """The figure of a process's CPU per accepted message, in ms: the lower the better."""
    return Figure(
        figure, round(result.per_send_ms(process), 3), "ms", target, higher_is_better=False
    )


def figures(result: Run, limit: float) -> list[Figure]:
    creates = [int(n) for n in result.sandbox["creates"].values()]
    not_final = result.messages - sum(result.statuses.get(s, 0) for s in FINAL_STATUSES)
    return [
        Figure(
            "send throughput",
            round(result.throughput, 1),
            "messages/s",
            target=round(150 * limit / 160, 1),
            limit=limit,
        ),
        Figure("send throughput ratio", round(result.throughput / limit, 3), "ratio", 0.7),
        cpu_per_send(result, "worker CPU per send", "worker", 5),
        cpu_per_send(result, "PostgreSQL CPU per send", "postgres", 4),
        # No worse than before the send pipeline was batched (2026-12-01, this machine kind):
        # the web about 15 ms for a send's three callbacks, the sandbox about 9 ms a send.
        cpu_per_send(result, "web CPU per send (callbacks)", "web", 15),
        cpu_per_send(result, "sandbox CPU per send", "sandbox", 9),
        Figure("database sessions opened", result.sessions, "sessions", 40, higher_is_better=False),
        Figure(
            "duplicates",
            sum(n - 1 for n in creates if n > 1),
            "messages",
            0,
            higher_is_better=False,
        ),
        Figure(
            "lost callbacks", lost_callbacks(result.sandbox), "callbacks", 0, higher_is_better=False
        ),
        Figure("messages without a final status", not_final, "messages", 0, higher_is_better=False),
    ]


def report(
    result: Run,
    limit: float,
    options: argparse.Namespace,
    *,
    web_workers: int,
    callback_delay_ms: int,
) -> None:
    print(machine())
    print(
        f"{result.messages:,} messages, sandbox latency {options.latency_ms} ms, "
        f"{options.threads} send threads (limit {limit:g}/s), gunicorn {web_workers} workers, "
        f"callbacks every {callback_delay_ms} ms"
    )
    print(
        f"message_send_many: {result.send_many_s:.2f} s in the call "
        f"({result.send_many_cpu_s:.2f} s CPU in this process)"
    )
    drained = "not within the timeout" if result.drained_s is None else f"{result.drained_s:.1f} s"
    print(
        f"first claim at {result.first_claim_s:.2f} s, last acceptance at "
        f"{result.last_accept_s:.2f} s, all out of pending/submitting at {drained}, settled at "
        f"{result.settled_s:.1f} s (after the call began)"
    )
    print(f"statuses: {dict(sorted(result.statuses.items()))}; accepted {result.accepted:,}")
    callbacks = result.sandbox["callbacks"]
    print(
        f"sandbox: {result.sandbox['messages']:,} messages created, callbacks posted "
        f"{callbacks['posted']:,}, answers {callbacks['answers']}"
    )
    cpu_report(result.cpu, result.machine, result.foreign, result.accepted, result.settled_s)
    answered = ", ".join(f"{code}: {n:,}" for code, n in sorted(result.callbacks_answered.items()))
    print(
        f"callbacks: gunicorn answered {answered or 'none'}; {result.callback_events:,} "
        f"recorded in the database; the sandbox got {result.sandbox['callbacks']['answers']}"
    )
    print(f"database sessions opened during the run: {result.sessions}")
