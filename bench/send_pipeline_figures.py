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
from bench.sending import created_twice
from messaging.models import FINAL

CALLBACKS_PER_MESSAGE = 3  # queued, sent, delivered (a From number, no Messaging Service)
FINAL_STATUSES = [str(status) for status in FINAL]


@dataclass
class Run:
    messages: int
    workers: int = 1
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
    peak_sessions: int = 0  # on the scratch database at once, sampled while sending
    # Sessions seen waiting on a lock, by the start of their statement, over the samples.
    lock_waits: Counter[str] = field(default_factory=Counter)
    samples: int = 0
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


@dataclass
class RateRun:
    """The rate-limited sender's run: ``messages`` to as many recipients at ``rate`` segments
    (one-segment messages) a second, and when the sandbox stored each, in epoch seconds."""

    messages: int
    rate: float
    burst: int  # what an idle budget lets through at once (``BURST_SECONDS`` at the rate)
    seconds: float = 0.0  # from the call until none was pending or submitting
    worker_cpu_s: float = 0.0  # the send workers' CPU meanwhile
    accepted: int = 0
    burst_arrivals: list[float] = field(default_factory=list)  # the first ``burst`` claimed
    arrivals: list[float] = field(default_factory=list)  # the others: the steady window

    @property
    def measured(self) -> float:
        """(n - 1) / (last - first arrival) over the steady window."""
        span = self.arrivals[-1] - self.arrivals[0] if len(self.arrivals) > 1 else 0.0
        return (len(self.arrivals) - 1) / span if span > 0 else 0.0

    @property
    def deviation_pct(self) -> float:
        return (self.measured / self.rate - 1) * 100

    def most_in_a_second(self) -> int:
        """The most arrivals (the burst's included) in any one second: the limiter's slots
        are at most ``rate`` plus the burst in a second."""
        moments = sorted(self.burst_arrivals + self.arrivals)
        most, first = 0, 0
        for last, moment in enumerate(moments):
            while moment - moments[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most


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
        Figure("duplicates", created_twice(result.sandbox), "messages", 0, higher_is_better=False),
        Figure(
            "lost callbacks", lost_callbacks(result.sandbox), "callbacks", 0, higher_is_better=False
        ),
        Figure("messages without a final status", not_final, "messages", 0, higher_is_better=False),
    ]


def rate_figures(result: RateRun) -> list[Figure]:
    """The limited sender's steady rate (at most 5% over its limit), how far it is from the
    limit either way, in percent (within 5%), and what holding messages back cost the worker."""
    return [
        Figure(
            "limited sender's send rate",
            round(result.measured, 3),
            "messages/s",
            target=round(result.rate * 1.05, 3),
            higher_is_better=False,
            limit=result.rate,
        ),
        Figure(
            "limited sender's deviation from its rate",
            round(abs(result.deviation_pct), 2),
            "%",
            5,
            higher_is_better=False,
        ),
        # Holding messages back should cost no more than sending them (the worker's 5 ms).
        Figure(
            "limited sender: send worker CPU per message",
            round(result.worker_cpu_s / max(result.accepted, 1) * 1000, 2),
            "ms",
            5,
            higher_is_better=False,
        ),
    ]


def rate_report(result: RateRun) -> None:
    gaps = sorted(b - a for a, b in zip(result.arrivals, result.arrivals[1:], strict=False))
    burst = result.burst_arrivals
    burst_span = burst[-1] - burst[0] if burst else 0.0
    print(
        f"limited sender ({result.rate:g} segments/s): {result.accepted:,} of "
        f"{result.messages:,} accepted in {result.seconds:.1f} s; the burst of {result.burst} "
        f"arrived over {burst_span:.2f} s; the steady window, {len(result.arrivals):,} "
        f"messages over {result.arrivals[-1] - result.arrivals[0]:.2f} s: "
        f"{result.measured:.3f}/s ({result.deviation_pct:+.2f}%); the workers' CPU "
        f"{result.worker_cpu_s:.1f} s ({result.worker_cpu_s / max(result.accepted, 1) * 1000:.1f} "
        "ms a message, wake-ups of the batches held back included)"
    )
    if gaps:
        print(
            f"  between arrivals: median {gaps[len(gaps) // 2] * 1000:.0f} ms, p95 "
            f"{gaps[int(len(gaps) * 0.95)] * 1000:.0f} ms, max {gaps[-1] * 1000:.0f} ms; the "
            f"most in any second {result.most_in_a_second()} (the limiter's slots: at most "
            f"{result.rate + result.burst:g}, give or take the jitter of the create's latency)"
        )


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
        f"{result.workers} send worker(s) of {options.threads} threads (limit {limit:g}/s), "
        f"gunicorn {web_workers} workers, "
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
    print(
        f"database sessions opened during the run: {result.sessions}; at most "
        f"{result.peak_sessions} at once (this script's left out); "
        f"{result.lock_waits.total()} seen waiting on a lock in {result.samples} samples "
        "while sending, by statement:"
    )
    for query, n in result.lock_waits.most_common(4):
        print(f"  {n:5}  {query}")
