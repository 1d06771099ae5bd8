"""CPU accounting from /proc, for the benchmarks that start real processes: a process tree's
CPU seconds (live and exited descendants), PostgreSQL's backends sampled during a run, the
machine's busy time by kind, every other process's CPU, Redis's own figure, the table of
CPU per process that a run prints, and a process's resident memory.

Nothing here sets Django up (``postmaster_pid`` asks Django's connection when called).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

TICK = os.sysconf("SC_CLK_TCK")


def stat_times(pid: int) -> tuple[float, float]:
    """(CPU seconds of the process's own threads, of its exited children it has reaped)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # fields 3 onwards: utime is field 14
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime) / TICK, (cutime + cstime) / TICK


def resident_mb(pid: int) -> float:
    """The process's resident memory now (``VmRSS`` of ``/proc/<pid>/status``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ProcessLookupError(f"process {pid} has no resident memory (a zombie?)")


def child_pids(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except FileNotFoundError:
        pass
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and all its descendants, live or exited: its own, its reaped
    children's (cutime/cstime, which hold their reaped descendants too), and each live
    child's tree. Children are read before the parent, so one exiting meanwhile is at worst
    counted twice, never missed."""
    total = 0.0
    for child in child_pids(pid):
        with contextlib.suppress(FileNotFoundError):
            total += tree_cpu(child)
    own, reaped = stat_times(pid)
    return total + own + reaped


@dataclass
class Backend:
    kind: str  # "ours" (a backend on the scratch database), "shared" (auxiliary), "other"
    start: float  # CPU seconds when first seen (0 for a process born during the run)
    last: float


@dataclass
class PostgresCPU:
    """PostgreSQL's CPU during the run, sampled from /proc every ``interval`` seconds.

    ``ours`` is the figure: the postmaster itself (it forks a process per session), the
    auxiliary processes every database shares (WAL writer, checkpointer, background writer,
    autovacuum launcher…) and every backend of the scratch database (including autovacuum and
    parallel workers of it), each from its CPU at the start (0 if born later) to its last
    sample; a backend that exits during the run counts up to its last sample, so at most
    ``interval`` of its CPU is missed. ``server`` is the check, exact and for the whole server:
    the postmaster's tree before and after (its cutime/cstime hold every exited backend).
    ``other`` is what backends of other databases used: not ours, and a sign of a noisy run.
    """

    postmaster: int
    database: str
    interval: float = 0.25
    backends: dict[int, Backend] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _postmaster_start: float = 0.0
    _server_start: float = 0.0
    postmaster_cpu: float = 0.0
    server: float = 0.0

    def _kind(self, pid: int) -> str:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        words = title.split()
        if self.database in words:
            return "ours"
        if "parallel worker for PID" in title:
            leader = self.backends.get(int(words[-1])) if words[-1].isdigit() else None
            return "ours" if leader is not None and leader.kind == "ours" else "other"
        if "autovacuum worker" in title or "(" in title:  # another database, or a client's
            return "other"
        return "shared"

    def _sample(self, first: bool) -> None:
        for pid in child_pids(self.postmaster):
            try:
                own, reaped = stat_times(pid)
                seen = self.backends.get(pid)
                if seen is None:
                    cpu = own + reaped
                    self.backends[pid] = Backend(self._kind(pid), cpu if first else 0.0, cpu)
                else:
                    seen.last = own + reaped
            except (FileNotFoundError, ProcessLookupError):
                pass

    def start(self) -> None:
        self._server_start = tree_cpu(self.postmaster)
        self._postmaster_start = stat_times(self.postmaster)[0]
        self._sample(first=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample(first=False)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample(first=False)
        self.postmaster_cpu = stat_times(self.postmaster)[0] - self._postmaster_start
        self.server = tree_cpu(self.postmaster) - self._server_start

    def used(self, kind: str) -> float:
        return sum(b.last - b.start for b in self.backends.values() if b.kind == kind)

    @property
    def ours(self) -> float:
        return self.postmaster_cpu + self.used("shared") + self.used("ours")


STAT_COLUMNS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def machine_stat() -> dict[str, float]:
    """The whole machine's CPU seconds by kind, from /proc/stat (guest time is in user)."""
    values = Path("/proc/stat").read_text().splitlines()[0].split()[1 : 1 + len(STAT_COLUMNS)]
    return {name: int(value) / TICK for name, value in zip(STAT_COLUMNS, values, strict=True)}


def every_process() -> dict[int, tuple[str, float]]:
    """Each live process's name and CPU seconds (its own threads)."""
    found: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            name = text[text.index("(") + 1 : text.rindex(")")]
            found[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / TICK)
    return found


def tree_pids(pid: int) -> set[int]:
    pids = {pid}
    for child in child_pids(pid):
        pids |= tree_pids(child)
    return pids


def redis_cpu(url: str) -> tuple[int | None, float]:
    """The Redis server's pid (if it runs here) and CPU seconds, from INFO."""
    info: dict[str, Any] = redis.Redis.from_url(url).info()  # type: ignore[assignment]
    pid = int(info["process_id"])
    cpu = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    return (pid if Path(f"/proc/{pid}").exists() else None), cpu


def postmaster_pid() -> int:
    """The parent of the backend of Django's connection: PostgreSQL must run on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = int(cursor.fetchone()[0])
    try:
        text = Path(f"/proc/{backend}/stat").read_text()
    except FileNotFoundError:
        raise SystemExit(
            "PostgreSQL must run on this machine: its CPU is read from /proc"
        ) from None
    return int(text[text.rindex(")") + 2 :].split()[1])


def foreign_cpu(
    before: dict[int, tuple[str, float]],
    after: dict[int, tuple[str, float]],
    ours: set[int | None],
) -> list[tuple[str, float]]:
    """CPU seconds of the processes alive at the end that are not ``ours`` (``every_process``
    before and after), summed by name, most first, those that used none left out."""
    foreign: dict[str, float] = {}
    for pid, (name, cpu) in after.items():
        if pid not in ours:
            used = cpu - before.get(pid, (name, 0.0))[1]
            foreign[name] = foreign.get(name, 0.0) + used
    ranked = sorted(foreign.items(), key=lambda item: -item[1])
    return [(name, cpu) for name, cpu in ranked if cpu > 0]


@dataclass
class RunCPU:
    """The CPU of a run, from ``start`` to ``stop``: each child's process trees (``children``,
    name: the pids counted under that name, so two workers count as one "worker"), Redis,
    PostgreSQL (``postgres``), this process ("this script"), the machine's busy time by kind,
    and every other process alive at the end (``foreign``)."""

    children: dict[str, list[int]]
    postgres: PostgresCPU
    redis_url: str
    own_start: float = 0.0  # this process's CPU time at the start
    cpu: dict[str, float] = field(default_factory=dict)
    machine: dict[str, float] = field(default_factory=dict)
    foreign: list[tuple[str, float]] = field(default_factory=list)  # other processes, by name
    _trees: dict[str, float] = field(default_factory=dict)
    _stat: dict[str, float] = field(default_factory=dict)
    _processes: dict[int, tuple[str, float]] = field(default_factory=dict)
    _redis_pid: int | None = None
    _redis: float = 0.0

    @staticmethod
    def _cpu(pids: list[int]) -> float:
        return sum(tree_cpu(pid) for pid in pids)

    def start(self) -> None:
        self._trees = {name: self._cpu(pids) for name, pids in self.children.items()}
        self._stat, self._processes = machine_stat(), every_process()
        self._redis_pid, self._redis = redis_cpu(self.redis_url)
        self.own_start = time.process_time()
        self.postgres.start()

    def stop(self) -> None:
        postgres = self.postgres
        postgres.stop()
        own_cpu = time.process_time() - self.own_start
        stat_after, processes_after = machine_stat(), every_process()
        self.cpu = {
            name: self._cpu(pids) - self._trees[name] for name, pids in self.children.items()
        }
        self.cpu["redis"] = redis_cpu(self.redis_url)[1] - self._redis
        self.cpu["postgres"] = postgres.ours
        self.cpu["postgres, whole server"] = postgres.server
        self.cpu["postgres, other databases"] = postgres.used("other")
        self.cpu["this script"] = own_cpu
        self.machine = {name: stat_after[name] - self._stat[name] for name in STAT_COLUMNS}
        ours = {os.getpid(), self._redis_pid} | tree_pids(postgres.postmaster)
        for pids in self.children.values():
            for pid in pids:
                ours |= tree_pids(pid)
        self.foreign = foreign_cpu(self._processes, processes_after, ours)


def others_cpu(machine: dict[str, float], cpu: dict[str, float]) -> float:
    """CPU seconds the machine spent outside the measured processes during the run (other
    work sharing the machine, interrupts): how noisy the run was."""
    busy = sum(v for k, v in machine.items() if k not in ("idle", "iowait"))
    measured = sum(cpu[n] for n in ("worker", "web", "sandbox", "this script", "redis"))
    return busy - measured - cpu["postgres, whole server"] + cpu["postgres, other databases"]


def cpu_report(
    cpu: dict[str, float],
    machine: dict[str, float],
    foreign: list[tuple[str, float]],
    accepted: int,
    wall: float,
) -> None:
    """Prints each process's CPU over the run (``wall`` seconds), per accepted message, and
    where the machine's busy time went."""
    print(f"CPU over the run ({wall:.1f} s, from the call to settled), per accepted message:")
    for name in (
        "worker",
        "web",
        "sandbox",
        "postgres",
        "postgres, whole server",
        "postgres, other databases",
        "this script",
    ):
        seconds = cpu[name]
        print(
            f"  {name:<28} {seconds:7.2f} s  {seconds / max(accepted, 1) * 1000:7.3f} ms"
            f"  ({seconds / wall:4.0%} of a core)"
        )
    print(f"  {'redis (shared server)':<28} {cpu['redis']:7.2f} s")
    machine_busy = sum(v for k, v in machine.items() if k not in ("idle", "iowait"))
    capacity = sum(machine.values())
    measured = sum(cpu[n] for n in ("worker", "web", "sandbox", "this script", "redis"))
    measured += cpu["postgres, whole server"]
    others = sum(seconds for _, seconds in foreign)
    top = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in foreign[:4])
    kinds = ", ".join(f"{k} {machine[k]:.1f}" for k in ("user", "system", "softirq", "steal"))
    print(
        f"machine: busy {machine_busy:.1f} of {capacity:.1f} CPU-s ({kinds}); the processes "
        f"above {measured:.1f} s; other processes alive at the end {others:.1f} s ({top}); "
        f"the rest (processes that came and went, interrupts) "
        f"{machine_busy - measured - others:.1f} s"
    )
