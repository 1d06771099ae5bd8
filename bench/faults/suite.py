"""``make faults``: every fault case, one after another, and the table of what each lost.

Runs each case of ``CASES`` as a process of its own (``python -m bench.faults.<case>
[--smoke] --out <file>``) that starts the real processes it needs, breaks something on purpose
while work is in flight, lets the product recover by itself and writes one
``bench.faults.outcome.Outcome``. This gathers them into a table (case, messages, sent, lost,
duplicated, held, seconds, notes), ``bench/results/faults.json`` and one more line of
``bench/results/faults_history.jsonl``. Every case's output is kept in
``var/bench/faults/<case>.log``.

A case *crashed* when it exited non-zero, wrote no fresh outcome, wrote a malformed one, ran
past its time, or has no module at all; it did not *hold* when it lost or duplicated a
message or a check of its own failed. Either fails the run (exit 1).

``--smoke`` (``make faults-smoke``, in CI) runs every case at its short size (seconds, not
minutes) and writes ``var/bench/smoke/faults.json`` and its history beside it, so
``bench/results/`` only ever holds full-size outcomes (``BENCH_RESULTS_DIR`` moves either).
``--only`` runs some cases and prints their table without recording it.

    .venv/bin/python -m bench.faults.suite [--smoke] [--only redis_outage,postgres_restart]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.faults.outcome import Outcome
from bench.results import ROOT, git_commit, machine_facts, results_dir

LOGS = ROOT / "var" / "bench" / "faults"  # each case's output and outcome file
SMOKE_RESULTS = ROOT / "var" / "bench" / "smoke"  # what --smoke writes, unless BENCH_RESULTS_DIR
# A case that hangs (a process that never came back) must not hang CI: past these it is
# stopped and counted as crashed.
CASE_SECONDS = {"smoke": 4 * 60, "full": 40 * 60}


@dataclass(frozen=True)
class Case:
    number: int
    name: str  # bench/faults/<name>.py, and the name in the table
    title: str
    module: str = ""  # bench.faults.<name> unless named

    @property
    def module_name(self) -> str:
        return self.module or f"bench.faults.{self.name}"


CASES: tuple[Case, ...] = (
    Case(1, "send_worker_killed", "kill -9 the send worker mid-way through 2,000 sends"),
    Case(2, "default_worker_killed", "kill -9 the default worker mid-launch and mid-import"),
    Case(3, "redis_outage", "Redis stopped for 30 s while automations fire"),
    Case(4, "postgres_restart", "PostgreSQL restarted during sends and callbacks"),
    Case(5, "twilio_faults", "Twilio 500s, 429s, slow creates and a 30 s outage"),
    Case(6, "callbacks_and_races", "callbacks shuffled, duplicated, a day late; racing workers"),
)


@dataclass
class Result:
    case: Case
    seconds: float = 0.0
    outcome: Outcome | None = None
    problem: str = ""  # why the case crashed; empty when it measured

    @property
    def held(self) -> bool:
        return not self.problem and self.outcome is not None and self.outcome.held

    def row(self) -> dict[str, Any]:
        measured = asdict(self.outcome) if self.outcome else {}
        return {
            **measured,
            "case": self.case.name,
            "title": self.case.title,
            "seconds": round(self.seconds, 1),
            "held": self.held,
            "crashed": bool(self.problem),
            **({"problem": self.problem} if self.problem else {}),
        }


def read_outcome(path: Path, since: float) -> Outcome:
    """The outcome a case wrote at ``path`` after ``since`` (epoch seconds); ValueError when it
    is missing, older, or not an outcome."""
    if not path.exists():
        raise ValueError(f"it wrote no outcome ({path.name})")
    if path.stat().st_mtime < since:
        raise ValueError(f"{path.name} is from an earlier run")
    try:
        outcome = Outcome.read(path)
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(f"{path.name} is not an outcome: {error}") from None
    counts = (outcome.messages, outcome.sent, outcome.lost, outcome.duplicated)
    if not all(isinstance(count, int) and count >= 0 for count in counts):
        raise ValueError(f"{path.name}: messages, sent, lost and duplicated must be counts")
    return outcome


def run_case(case: Case, *, smoke: bool, env: dict[str, str]) -> Result:
    """Runs one case, its output shown as it comes and kept in ``LOGS``."""
    result = Result(case)
    if importlib.util.find_spec(case.module_name) is None:
        result.problem = f"no module {case.module_name}: the case is not written yet"
        return result
    LOGS.mkdir(parents=True, exist_ok=True)
    stem = f"{case.name}_smoke" if smoke else case.name
    log, out = LOGS / f"{stem}.log", LOGS / f"{stem}.json"
    command = [sys.executable, "-m", case.module_name, *(["--smoke"] if smoke else [])]
    command += ["--out", str(out)]
    limit = CASE_SECONDS["smoke" if smoke else "full"]
    began, began_at = time.perf_counter(), time.time()
    with log.open("w") as written:
        child = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own children too, if it must be stopped
        )
        # A case that hangs silently never ends the loop below: the timer stops it.
        timed_out = threading.Event()
        overdue = threading.Timer(limit, stop_session, args=(child, timed_out))
        overdue.start()
        assert child.stdout is not None
        for line in child.stdout:
            written.write(line)
            print(f"  | {line}", end="", flush=True)
        returncode = child.wait()
        overdue.cancel()
    result.seconds = time.perf_counter() - began
    if timed_out.is_set():
        result.problem = f"still running after {limit} s: stopped; its output is in {log}"
    elif returncode:
        result.problem = f"exited with code {returncode}; its output is in {log}"
    else:
        try:
            result.outcome = read_outcome(out, since=began_at)
        except ValueError as error:
            result.problem = str(error)
    return result


def stop_session(child: subprocess.Popen[str], stopped: threading.Event) -> None:
    """SIGTERM to the case's session (it stops its own children on the way out), then SIGKILL
    to whatever is left of it; ``stopped`` says it came to that."""
    stopped.set()
    for signum, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def table(results: Sequence[Result]) -> str:
    lines = [
        f"{'case':<22} {'messages':>8} {'sent':>7} {'lost':>6} {'duplicated':>10} {'held':<5} "
        f"{'seconds':>8}  notes"
    ]
    for result in results:
        name = f"{result.case.number} {result.case.name}"
        if result.outcome is None:
            lines.append(
                f"{name:<22} {'':>8} {'':>7} {'':>6} {'':>10} {'CRASH':<5} "
                f"{result.seconds:>8.0f}  {result.problem}"
            )
            continue
        o = result.outcome
        failed = [name for name, ok in o.checks.items() if not ok]
        notes = [f"failed check: {name}" for name in failed] + o.notes
        lines.append(
            f"{name:<22} {o.messages:>8} {o.sent:>7} {o.lost:>6} {o.duplicated:>10} "
            f"{'yes' if result.held else 'NO':<5} {result.seconds:>8.0f}  "
            + ("; ".join(notes) or "")
        )
    return "\n".join(lines)


def gathered(results: Sequence[Result], *, smoke: bool, seconds: float) -> dict[str, Any]:
    """The payload of ``faults.json``: the machine, the run's size and wall time, every case."""
    return {
        "machine": machine_facts(
            commit=git_commit(),
            size="smoke" if smoke else "full",
            load_average_1m=round(os.getloadavg()[0], 2),
            seconds=round(seconds, 1),
        ),
        "held": all(result.held for result in results),
        "cases": [result.row() for result in results],
    }


def record(payload: dict[str, Any], results: Path) -> None:
    """``faults.json`` replaced, and the same appended to ``faults_history.jsonl`` as one line."""
    results.mkdir(parents=True, exist_ok=True)
    (results / "faults.json").write_text(json.dumps(payload, indent=2) + "\n")
    with (results / "faults_history.jsonl").open("a") as history:
        history.write(json.dumps(payload, separators=(",", ":")) + "\n")


def chosen(only: str | None, cases: Sequence[Case]) -> list[Case]:
    if not only:
        return list(cases)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in {case.name for case in cases}]
    if unknown:
        known = ", ".join(case.name for case in cases)
        raise SystemExit(f"no such case: {', '.join(unknown)} (the cases: {known})")
    return [case for case in cases if case.name in names]


def main(argv: Sequence[str] | None = None, cases: Sequence[Case] = CASES) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="every case at its short size")
    parser.add_argument(
        "--only",
        help="these cases only, comma-separated: printed, not recorded in faults.json",
    )
    options = parser.parse_args(argv)
    selected = chosen(options.only, cases)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if options.smoke:  # bench/results keeps full-size outcomes only
        env.setdefault("BENCH_RESULTS_DIR", str(SMOKE_RESULTS))
        os.environ["BENCH_RESULTS_DIR"] = env["BENCH_RESULTS_DIR"]
    began = time.perf_counter()
    results = []
    for index, case in enumerate(selected, 1):
        print(f"[{index}/{len(selected)}] {case.number} {case.name}: {case.title}", flush=True)
        result = run_case(case, smoke=options.smoke, env=env)
        state = f"crashed: {result.problem}" if result.problem else "held" if result.held else "NO"
        print(f"[{index}/{len(selected)}] {case.name}: {state} in {result.seconds:.0f} s")
        results.append(result)
    payload = gathered(results, smoke=options.smoke, seconds=time.perf_counter() - began)
    print(table(results))
    if not options.only:
        record(payload, results_dir())
        print(f"written to {results_dir() / 'faults.json'} and appended to faults_history.jsonl")
    for result in results:
        if result.problem:
            print(f"CRASHED {result.case.name}: {result.problem}")
        elif not result.held:
            print(f"DID NOT HOLD {result.case.name}")
    return 0 if all(result.held for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
