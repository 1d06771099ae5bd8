"""A PostgreSQL cluster and a Redis server of a fault case's own, which it may stop, kill and
restart without disturbing the machine's shared servers on 5432 and 6379 (other people's
tests and benchmarks use them).

- ``PrivatePostgres``: ``initdb`` into a temporary directory (run as the ``postgres`` user when
  this runs as root: the server refuses to run as root), on a free port, its unix socket in
  that directory, trust authentication on 127.0.0.1, durability off for speed (``fsync``,
  ``synchronous_commit`` and ``full_page_writes``: a crash of the whole machine is not a case
  here, a restart of the server is, and a fast or immediate restart keeps committed data
  without them as long as the operating system stays up), and ``max_connections`` for the
  whole stack.
- ``PrivateRedis``: ``redis-server`` on a free port, configured as docker-compose's (an
  append-only file, so a stopped Redis comes back with its queues, as in production), no RDB
  snapshots; ``stop`` shuts it down, ``start`` brings it back on the same port with its data.

``private_services`` starts both, points ``DATABASE_URL``, ``REDIS_URL`` and
``CELERY_BROKER_URL`` of this process (and so of every child it starts) at them, migrates the
database with ``manage.py migrate``, and removes everything at the end. Nothing here sets
Django up: a case calls it first, then ``django.setup()``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.stack import ROOT, free_port, wait_for_port

DATABASE = "smshub"
# web (3 gunicorn workers) + two default workers of 2 processes + two send workers of 16
# threads + beat + this process + the sweeper's and the case's own sessions, with room over.
MAX_CONNECTIONS = 120
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": str(MAX_CONNECTIONS),
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'128MB'",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] '",
}


def postgres_bin(program: str) -> str:
    """``program`` of the newest PostgreSQL under /usr/lib/postgresql (Debian's layout, where
    ``initdb`` and ``pg_ctl`` are not on PATH), else the one on PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{program}"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if versions:
        return str(versions[-1])
    found = shutil.which(program)
    if not found:
        raise SystemExit(f"{program} not found: install PostgreSQL's server (postgresql)")
    return found


def missing_programs() -> list[str]:
    """The programs these services need that this machine lacks."""
    missing = [name for name in ("redis-server",) if not shutil.which(name)]
    for program in ("initdb", "pg_ctl"):
        try:
            postgres_bin(program)
        except SystemExit:
            missing.append(program)
    return missing


@dataclass
class PrivatePostgres:
    directory: Path  # owned by the user the server runs as; the cluster is in data/
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "postgres.log"

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``command`` as the cluster's owner (``postgres`` when this runs as root)."""
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, check=False, cwd=self.directory
        )
        if check and done.returncode:
            raise SystemExit(
                f"{' '.join(command[:2])} failed: {(done.stderr or done.stdout)[-2000:]}"
            )
        return done

    def create(self) -> None:
        self._run(
            postgres_bin("initdb"),
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        settings = {**SERVER_SETTINGS, "port": str(self.port)}
        settings["unix_socket_directories"] = f"'{self.directory}'"
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("".join(f"{name} = {value}\n" for name, value in settings.items()))

    def pg_ctl(self, action: str, *options: str) -> None:
        self._run(
            postgres_bin("pg_ctl"), action, "--pgdata", str(self.data), "--log", str(self.log),
            "--wait", "--timeout", "60", *options,
        )  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")
        wait_for_port(self.port, "the private PostgreSQL did not start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "--mode", mode)

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart``: every session is cut (``fast``: rolled back and closed;
        ``immediate``: the server quits at once and recovers from its log on the way up)."""
        self.pg_ctl("restart", "--mode", mode)
        wait_for_port(self.port, "the private PostgreSQL did not come back")

    def create_database(self, name: str = DATABASE) -> None:
        self._run(
            postgres_bin("createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            name,
        )

    def running(self) -> bool:
        return (
            self._run(
                postgres_bin("pg_ctl"), "status", "--pgdata", str(self.data), check=False
            ).returncode
            == 0
        )


@dataclass
class PrivateRedis:
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.directory / "redis.log"

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """On the same port every time, reloading its append-only file."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", str(self.directory), "--save", "", "--appendonly", "yes"]
        command += ["--logfile", str(self.log), "--protected-mode", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, "the private Redis did not start", process=self.process)
        import redis

        deadline = time.monotonic() + 30
        while True:  # answering, and done loading its file
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.exceptions.BusyLoadingError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the private Redis did not finish loading its data")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM, which Redis takes as ``SHUTDOWN`` (its append-only file written out), as
        ``docker compose stop`` sends it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@dataclass
class Services:
    postgres: PrivatePostgres
    redis: PrivateRedis


def owned_directory(prefix: str) -> Path:
    """A new temporary directory the PostgreSQL server may own: ``postgres``'s when this runs as
    root (initdb refuses a root-owned one), this user's otherwise."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(directory, user.pw_uid, user.pw_gid)
    return directory


def migrate() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"manage.py migrate failed: {done.stderr[-3000:]}")


@contextmanager
def private_services(name: str) -> Iterator[Services]:
    """The private PostgreSQL (its database migrated) and Redis of case ``name``, this
    process's environment pointing at them; both stopped and removed at the end, whatever
    state the case left them in."""
    missing = missing_programs()
    if missing:
        raise SystemExit(f"not on this machine: {', '.join(missing)}")
    postgres = PrivatePostgres(owned_directory(f"faults-{name}-pg-"))
    redis_server = PrivateRedis(Path(tempfile.mkdtemp(prefix=f"faults-{name}-redis-")))
    try:
        postgres.create()
        postgres.start()
        postgres.create_database()
        redis_server.start()
        os.environ["DATABASE_URL"] = postgres.url()
        os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = redis_server.url()
        migrate()
        print(
            f"private PostgreSQL on {postgres.port} ({postgres.directory}), "
            f"Redis on {redis_server.port} ({redis_server.directory})",
            flush=True,
        )
        yield Services(postgres, redis_server)
    finally:
        redis_server.stop()
        if postgres.running():
            postgres.stop(mode="immediate")
        shutil.rmtree(postgres.directory, ignore_errors=True)
        shutil.rmtree(redis_server.directory, ignore_errors=True)
