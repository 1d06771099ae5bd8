"""Where benchmarks leave their figures: ``bench/results/<benchmark>.json``, one file per
benchmark, in the shape ``make bench`` gathers (``{"machine": {...}, "figures": [...]}``).

A figure names its limit (what bounds it: Twilio, the hardware) or only its target; the ratio
is value ÷ limit, and ``met`` says whether the target holds (``higher`` is better, or lower).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def results_dir() -> Path:
    """``bench/results``, or ``BENCH_RESULTS_DIR`` when set (the suite's own tests use it)."""
    return Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench" / "results")


def git_commit() -> str:
    """The commit measured, with "+changes" when tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + ("+changes" if changed else "")


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: float
    higher_is_better: bool = True
    limit: float | None = None

    @property
    def ratio(self) -> float | None:
        return round(self.value / self.limit, 3) if self.limit else None

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def row(self) -> dict[str, object]:
        row = asdict(self)
        row.pop("higher_is_better")
        return {**row, "ratio": self.ratio, "met": self.met}


def processor() -> str:
    """The CPU's model name (Linux), else what Python knows of it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts(**extra: object) -> dict[str, object]:
    return {
        "cores": os.cpu_count(),
        "processor": processor(),
        "python": platform.python_version(),
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **extra,
    }


def write(benchmark: str, figures: list[Figure], **machine: object) -> Path:
    """Writes the figures and prints them as a table; returns the file written."""
    results = results_dir()
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{benchmark}.json"
    rows = [figure.row() for figure in figures]
    payload = {"benchmark": benchmark, "machine": machine_facts(**machine), "figures": rows}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"{'figure':<44} {'value':>10} {'unit':<10} {'limit':>8} {'ratio':>6} {'target':>8} met")
    for row in rows:
        limit = "" if row["limit"] is None else f"{row['limit']:g}"
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        print(
            f"{row['name']:<44} {row['value']:>10.4g} {row['unit']:<10} {limit:>8} {ratio:>6} "
            f"{row['target']:>8g} {'yes' if row['met'] else 'NO'}"
        )
    print(f"written to {path}")
    return path
