"""What the benchmarks that start real processes share: their environment, free ports, waiting
for a port, child processes with their logs (started, stopped, their problems), the Twilio
sandbox, gunicorn, Celery workers and beat started as docker-compose runs them (and the status
callbacks gunicorn answered), the scratch database (its URL for a child process, its main
database created, its sessions waited for), a Twilio connection row, and the web app as it
runs behind its proxy.

Nothing here sets Django up: a benchmark imports this before or after ``django.setup()``, and
gunicorn imports ``behind_proxy`` in its workers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis

ROOT = Path(__file__).resolve().parent.parent

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def set_stack_environment(*, redis_url: str, sandbox_url: str, web_url: str) -> None:
    """The environment of every process of a real-stack benchmark, this one and its children,
    set before Django is: the production settings (DEBUG off) against ``DATABASE_URL`` (the
    development database when unset; the scratch one beside it once ``scratch_stack`` runs),
    ``redis_url`` as broker and ``REDIS_URL``, the sandbox as Twilio, and the web process as
    the public address the sandbox calls back, behind one proxy (``behind_proxy``)."""
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smshub")
    os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"] = redis_url
    os.environ["DEBUG"] = "false"
    for name in ("TWILIO_API_BASE_URL", "TWILIO_MESSAGING_BASE_URL", "TWILIO_PRICING_BASE_URL"):
        os.environ[name] = sandbox_url
    os.environ["PUBLIC_BASE_URL"] = web_url
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["TRUSTED_PROXY_COUNT"] = "1"
    os.environ["PYTHONUNBUFFERED"] = "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int,
    failure: str,
    seconds: float = 30,
    process: subprocess.Popen[Any] | None = None,
) -> None:
    """Returns once something accepts connections on 127.0.0.1:``port``; exits with
    ``failure`` after ``seconds`` (or as soon as ``process``, the one that should listen,
    has exited)."""
    deadline = time.monotonic() + seconds
    while True:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{failure} (exited with code {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(failure) from None
            time.sleep(0.2)


def database_url() -> str:
    """The URL of the database Django is connected to (the scratch one, once set up), for
    child processes' ``DATABASE_URL``."""
    from django.db import connection

    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


def worker_part(module: str, *args: str) -> dict[str, Any]:
    """Runs ``python -m <module> <args>`` against the scratch database, as a fresh worker
    process, and returns the JSON object its last line prints (its own figures)."""
    child = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url()},
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode:
        raise SystemExit(child.stderr[-3000:])
    return dict(json.loads(child.stdout.strip().splitlines()[-1]))


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


def start(name: str, command: list[str], logs: Path) -> Child:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches this script, which stops them in order
        )
    return Child(name, process, log)


def stop(children: list[Child]) -> None:
    """SIGTERM to each (the worker first: a warm shutdown finishes its tasks), then SIGKILL
    to any still running after 15 s. Only these processes, by their pid."""
    for child in reversed(children):
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
        try:
            child.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            print(f"{child.name} did not stop after SIGTERM: killing it")
            child.process.kill()
            child.process.wait(timeout=10)


def start_sandbox(
    logs: Path, *, port: int, latency_ms: int, callback_delay_ms: int, flags: Iterable[str] = ()
) -> Child:
    """The Twilio sandbox; ``flags``: more of its command's flags (its faults, say)."""
    command = [sys.executable, "manage.py", "run_twilio_sandbox", "--port", str(port)]
    command += ["--latency-ms", str(latency_ms), "--callback-delay-ms", str(callback_delay_ms)]
    command += list(flags)
    sandbox = start("sandbox", command, logs)
    wait_for_port(port, "the sandbox did not start", process=sandbox.process)
    return sandbox


def start_web(logs: Path, *, port: int, workers: int) -> Child:
    # docker-compose's web: gunicorn config.wsgi --workers 3 --access-logfile -
    command = [sys.executable, "-m", "gunicorn", "bench.stack:behind_proxy()"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--access-logfile", "-"]
    web = start("web", command, logs)
    wait_for_port(port, "gunicorn did not start", process=web.process)
    return web


def start_worker(
    logs: Path,
    *,
    queue: str,
    pool: str,
    concurrency: int,
    name: str = "worker",
    node: str = "",
) -> Child:
    """A Celery worker as docker-compose runs one: ``celery -A config worker -Q <queue> -P
    <pool> -c <concurrency> -n <queue>@%h``, once it answers a ping. ``name``: its child's
    name and log file (two workers of one stack need two); ``node``: its node name instead of
    the queue's (two workers of one queue need two)."""
    from config.celery import app as celery_app

    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue]
    command += ["-P", pool, "-c", str(concurrency), "-n", f"{node or queue}@%h"]
    worker = start(name, command, logs)
    name = f"{node or queue}@{socket.gethostname()}"
    deadline = time.monotonic() + 60
    while not celery_app.control.ping(destination=[name], timeout=1.0):
        if worker.process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the {queue} worker did not start; see {worker.log}")
    return worker


def start_beat(logs: Path) -> Child:
    """Celery beat as docker-compose runs it, its schedule file in ``logs`` (a fresh one, so
    every entry is due from the start). Beat only publishes: it is up once its process runs."""
    command = [sys.executable, "-m", "celery", "-A", "config", "beat"]
    command += ["--schedule", str(logs / "celerybeat-schedule")]
    beat = start("beat", command, logs)
    time.sleep(1.0)
    if beat.process.poll() is not None:
        raise SystemExit(f"beat did not start; see {beat.log}")
    return beat


def answered_callbacks(web: Child) -> Counter[str]:
    """Status callbacks gunicorn answered, by status code (its access log: ``"POST
    /webhooks/twilio/status/<id> HTTP/1.1" 204 …``), whether or not the caller still waited."""
    answered: Counter[str] = Counter()
    for line in web.log.read_text(errors="replace").splitlines():
        if '"POST /webhooks/twilio/status/' in line:
            answered[line.split('" ', 1)[1].split()[0]] += 1
    return answered


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our sandbox
        return json.loads(response.read())


def log_problems(child: Child) -> list[str]:
    words = ("ERROR", "CRITICAL", "Traceback", "WARNING")
    return [
        line
        for line in child.log.read_text(errors="replace").splitlines()
        if any(word in line for word in words)
    ]


def ensure_main_database() -> None:
    """Creates DATABASE_URL's database when missing (the scratch one is made beside it)."""
    import psycopg
    from django.db import connection
    from psycopg import sql

    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            return
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


def wait_for_sessions_to_end(seconds: float = 10) -> None:
    """The children's sessions close as they exit; the scratch database is dropped after."""
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                "pg_backend_pid()",
                [name],
            )
            if not cursor.fetchone()[0]:
                break
        time.sleep(0.2)
    connection.close()


@contextmanager
def scratch_stack(name: str, redis_url: str) -> Iterator[tuple[Path, list[Child]]]:
    """Where a benchmark of real processes runs: PostgreSQL required, a SIGTERM unwinding
    through here, the scratch database ``test_<name>_<benchmark>`` created beside
    ``DATABASE_URL``'s (the children's ``DATABASE_URL`` from then on) and dropped at the end,
    the Redis database flushed before and after, and a directory for the children's logs.
    Yields the directory and the list to put the children in; they are stopped at the end."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: this measures PostgreSQL.")
    logging.disable(logging.INFO)  # this process's own lines; the children log as deployed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ensure_main_database()
    db = connection.settings_dict
    db["TEST"]["NAME"] = f"test_{db['NAME']}_{name}"
    redis_db = redis.Redis.from_url(redis_url)
    redis_db.flushdb()
    logs = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    print(f"logs in {logs}")
    children: list[Child] = []
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        os.environ["DATABASE_URL"] = database_url()
        yield logs, children
    finally:
        stop(children)
        connection.close()
        wait_for_sessions_to_end()
        teardown_databases(databases, verbosity=0)
        redis_db.flushdb()


def print_log_problems(children: list[Child]) -> None:
    for child in children:
        problems = log_problems(child)
        if problems:
            print(f"{child.name} log: {len(problems)} warning/error lines, first ones:")
            for line in problems[:5]:
                print(f"  {line[:200]}")


def behind_proxy() -> WSGIApp:
    """gunicorn's ``'bench.stack:behind_proxy()'``: the app (``config.wsgi``) as it runs behind
    docker-compose's TLS-terminating proxy, which says ``X-Forwarded-Proto: https`` and appends
    the client's address to ``X-Forwarded-For`` (``TRUSTED_PROXY_COUNT=1``). Without it, a
    plain-HTTP client such as the Twilio sandbox would only get the SSL redirect."""
    from config.wsgi import application

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ["HTTP_X_FORWARDED_PROTO"] = "https"
        client = str(environ.get("REMOTE_ADDR", ""))
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        environ["HTTP_X_FORWARDED_FOR"] = f"{forwarded}, {client}" if forwarded else client
        return application(environ, start_response)

    return app
