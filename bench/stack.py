"""What the benchmarks that start real processes share: free ports, waiting for a port, the
scratch database's URL for a child process, and the web app as it runs behind its proxy.

Nothing here sets Django up: a benchmark imports this before or after ``django.setup()``, and
gunicorn imports ``behind_proxy`` in its workers.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


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
