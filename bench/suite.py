"""``make bench``: every speed and scale figure in one run, each against its limit.

Runs the benchmarks of ``PARTS`` one after another, each in a process of its own that starts
the real processes it measures (gunicorn, Celery workers on the ``send`` and ``default``
queues, beat, the Twilio sandbox over HTTP) on a scratch PostgreSQL database and a Redis
database of its own, so one part's rows, queues and warm caches never help or slow the next.
Each writes its figures to ``bench/results/<benchmark>.json`` (``bench.results.write``); this
gathers them into one table (figure, value, unit, limit, ratio to the limit, target, met),
``bench/results/latest.json`` and one more line of ``bench/results/history.jsonl``. Every part's
output is kept in ``var/bench/<benchmark>.log``.

``--smoke`` (``make bench-smoke``, in CI) runs every part at a tenth of its size so the
benchmarks keep working: a part fails the run when it exits non-zero (its own correctness
checks: counts, duplicates, lost rows) or writes no fresh, well-formed figures; a missed
target never does (CI's machine is not the one the targets are set for). A smoke run writes
its files, ``latest.json`` and ``history.jsonl`` included, to ``var/bench/smoke/``, so
``bench/results/`` only ever holds full-size figures (``BENCH_RESULTS_DIR`` moves either).

    .venv/bin/python -m bench.suite [--smoke] [--only send_pipeline pages_at_scale]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.results import ROOT, git_commit, machine_facts, results_dir

LOGS = ROOT / "var" / "bench"
SMOKE_RESULTS = LOGS / "smoke"  # what --smoke writes, unless BENCH_RESULTS_DIR says
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/smshub"
REDIS = ("127.0.0.1", 6379)  # each benchmark uses a database number of its own on it
SUITE_SECONDS = 15 * 60  # the whole run on 2 cores
FIGURE_KEYS = ("name", "value", "unit", "limit", "ratio", "target", "met")


@dataclass(frozen=True)
class Part:
    number: int
    title: str
    benchmark: str  # writes bench/results/<benchmark>[_smoke].json
    module: str = ""  # bench.<benchmark> unless named

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", self.module or f"bench.{self.benchmark}"]

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}"

    def results_name(self, smoke: bool) -> str:
        return f"{self.benchmark}_smoke" if smoke else self.benchmark


PARTS: tuple[Part, ...] = (
    Part(1, "send throughput", "send_pipeline"),
    Part(2, "event to Twilio", "event_to_twilio"),
    Part(3, "status callbacks", "status_callbacks"),
    Part(4, "fan-out", "launches"),
    Part(5, "import", "contacts_import"),
    Part(6, "pages at scale", "pages_at_scale"),
    Part(7, "memory", "send_memory"),
)


@dataclass
class Outcome:
    part: Part
    seconds: float = 0.0
    figures: list[dict[str, Any]] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    problem: str = ""  # why the part failed; empty when it did not


def figure_problems(figure: object) -> list[str]:
    """What is wrong with one figure of a results file (nothing for a well-formed one)."""
    if not isinstance(figure, dict):
        return [f"a figure is not an object: {figure!r}"]
    name = figure.get("name", "?")
    problems = [f"{name}: no {key!r}" for key in FIGURE_KEYS if key not in figure]
    for key in ("value", "target"):
        if key in figure and not isinstance(figure[key], int | float):
            problems.append(f"{name}: {key} is not a number")
    for key in ("limit", "ratio"):
        if figure.get(key) is not None and not isinstance(figure[key], int | float):
            problems.append(f"{name}: {key} is neither a number nor null")
    if "met" in figure and not isinstance(figure["met"], bool):
        problems.append(f"{name}: met is not true or false")
    return problems


def read_results(path: Path, since: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The machine facts and figures a benchmark wrote at ``path`` after ``since`` (epoch
    seconds); ValueError when the file is missing, older, or malformed."""
    if not path.exists():
        raise ValueError(f"it wrote no {path.name}")
    if path.stat().st_mtime < since:
        raise ValueError(f"{path.name} is from an earlier run")
    try:
        payload = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path.name} is not JSON: {error}") from None
    figures = payload.get("figures") if isinstance(payload, dict) else None
    if not isinstance(figures, list) or not figures:
        raise ValueError(f"{path.name} has no figures")
    problems = [problem for figure in figures for problem in figure_problems(figure)]
    if problems:
        raise ValueError(f"{path.name}: " + "; ".join(problems[:5]))
    return dict(payload.get("machine") or {}), figures


def run_part(part: Part, *, smoke: bool, env: dict[str, str], results: Path) -> Outcome:
    """Runs one benchmark, its output shown as it comes and kept in ``var/bench/``."""
    outcome = Outcome(part)
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{part.results_name(smoke)}.log"
    command = [*part.command, *(["--smoke"] if smoke else [])]
    began, began_at = time.perf_counter(), time.time()
    with log.open("w") as out:
        child = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert child.stdout is not None
        for line in child.stdout:
            out.write(line)
            print(f"  | {line}", end="", flush=True)
        returncode = child.wait()
    outcome.seconds = time.perf_counter() - began
    if returncode:
        outcome.problem = f"exited with code {returncode}; its output is in {log}"
        return outcome
    try:
        outcome.machine, outcome.figures = read_results(
            results / f"{part.results_name(smoke)}.json", since=began_at
        )
    except ValueError as error:
        outcome.problem = str(error)
    return outcome


def gathered(outcomes: Sequence[Outcome], *, smoke: bool, seconds: float) -> dict[str, Any]:
    """The payload of ``latest.json``: the machine, what each part took, and every figure
    (named after its part) with the suite's own wall time last."""
    figures = [
        {**{key: figure[key] for key in FIGURE_KEYS}, "name": f"{o.part.number}. {figure['name']}"}
        | {"part": o.part.label}
        for o in outcomes
        for figure in o.figures
    ]
    figures.append(
        {
            "name": "make bench: wall time of every part",
            "value": round(seconds, 1),
            "unit": "s",
            "limit": None,
            "ratio": None,
            "target": SUITE_SECONDS,
            "met": seconds <= SUITE_SECONDS,
            "part": "suite",
        }
    )
    postgresql = next((o.machine["postgresql"] for o in outcomes if "postgresql" in o.machine), "")
    machine = machine_facts(
        memory_gb=memory_gb(),
        postgresql=postgresql,
        commit=git_commit(),
        size="smoke" if smoke else "full",
        parts={
            o.part.benchmark: {
                "seconds": round(o.seconds, 1),
                "ok": not o.problem,
                **({"problem": o.problem} if o.problem else {}),
            }
            for o in outcomes
        },
    )
    return {"machine": machine, "figures": figures}


def memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def table(payload: dict[str, Any]) -> str:
    """The figures as the table ``make bench`` prints, a heading per part."""
    lines = [
        f"{'figure':<76} {'value':>10} {'unit':<11} {'limit':>8} {'ratio':>6} {'target':>8} met"
    ]
    part = None
    for figure in payload["figures"]:
        if figure["part"] != part:
            part = figure["part"]
            lines.append(f"-- {part}")
        limit = "" if figure["limit"] is None else f"{figure['limit']:g}"
        ratio = "" if figure["ratio"] is None else f"{figure['ratio']:.2f}"
        lines.append(
            f"{figure['name'][:76]:<76} {figure['value']:>10.4g} {figure['unit'][:11]:<11} "
            f"{limit:>8} {ratio:>6} {figure['target']:>8g} {'yes' if figure['met'] else 'NO'}"
        )
    return "\n".join(lines)


def record(payload: dict[str, Any], results: Path) -> None:
    """``latest.json`` replaced, and the same appended to ``history.jsonl`` as one line."""
    results.mkdir(parents=True, exist_ok=True)
    (results / "latest.json").write_text(json.dumps(payload, indent=2) + "\n")
    with (results / "history.jsonl").open("a") as history:
        history.write(json.dumps(payload, separators=(",", ":")) + "\n")


def unreachable(database_url: str) -> list[str]:
    """PostgreSQL (``database_url``'s server) and Redis, named when they do not answer."""
    url = urlsplit(database_url)
    services = [
        ("PostgreSQL (DATABASE_URL)", (url.hostname or "127.0.0.1", url.port or 5432)),
        ("Redis", REDIS),
    ]
    missing = []
    for name, address in services:
        try:
            socket.create_connection(address, timeout=2).close()
        except OSError:
            missing.append(f"{name} does not answer at {address[0]}:{address[1]}")
    return missing


def main(argv: Sequence[str] | None = None, parts: Sequence[Part] = PARTS) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="every part at a tenth of its size")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[part.benchmark for part in parts],
        help="these parts only: printed, not recorded in latest.json or history.jsonl",
    )
    options = parser.parse_args(argv)
    parts = [part for part in parts if not options.only or part.benchmark in options.only]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if options.smoke:  # bench/results keeps full-size figures only
        env.setdefault("BENCH_RESULTS_DIR", str(SMOKE_RESULTS))
        os.environ["BENCH_RESULTS_DIR"] = env["BENCH_RESULTS_DIR"]
    results = results_dir()
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    missing = unreachable(env["DATABASE_URL"])
    if missing:
        print("; ".join(missing) + ": start it, then run the benchmarks again.")
        return 2
    began = time.perf_counter()
    outcomes = []
    for index, part in enumerate(parts, 1):
        print(f"[{index}/{len(parts)}] {part.label} (python -m {part.command[-1]})", flush=True)
        outcome = run_part(part, smoke=options.smoke, env=env, results=results)
        state = f"failed: {outcome.problem}" if outcome.problem else "done"
        print(f"[{index}/{len(parts)}] {part.label}: {state} in {outcome.seconds:.0f} s")
        outcomes.append(outcome)
    payload = gathered(outcomes, smoke=options.smoke, seconds=time.perf_counter() - began)
    print(table(payload))
    if not options.only:
        record(payload, results)
        print(f"written to {results / 'latest.json'} and appended to history.jsonl")
    failed = [o for o in outcomes if o.problem]
    for outcome in failed:
        print(f"FAILED {outcome.part.label}: {outcome.problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
