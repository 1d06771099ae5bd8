"""The Twilio sandbox, served for real on 127.0.0.1, and a "phone sink" that records its posts.

Both run an aiohttp application in a background thread with its own event loop, on an
ephemeral port, so tests talk to them over real HTTP (``requests``, ``twilio.rest.Client``,
Django's Twilio seam) and never leave 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from aiohttp import web

from sandbox.faults import LISTENER, listen
from sandbox.server import build_app
from sandbox.state import DEFAULT_NUMBERS, Options

HOST = "127.0.0.1"
DEADLINE_S = 5.0


class BackgroundServer:
    """An aiohttp application served on 127.0.0.1:<ephemeral> from a thread of its own."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(app, access_log=None)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self.loop)
        self.port = future.result(timeout=10)

    async def _start(self) -> int:
        await self.runner.setup()
        if LISTENER in self.app:  # the sandbox: served so that an outage can close its port
            return await listen(self.app, self.runner, HOST, 0)
        site = web.TCPSite(self.runner, HOST, 0)
        await site.start()
        # The bound address of the listening socket: (host, port).
        port: int = self.runner.addresses[0][1]
        return port

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            if not self.thread.is_alive():
                self.loop.close()


def wait_until(
    check: Callable[[], Any], *, timeout: float = DEADLINE_S, what: str = "condition"
) -> Any:
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


# --- The sandbox ----------------------------------------------------------------------------


@dataclass
class Sandbox:
    """A running sandbox: its base URL and options, and helpers for its REST API."""

    url: str
    options: Options
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def auth(self) -> tuple[str, str]:
        return (self.options.account_sid, self.options.auth_token)

    @property
    def account_url(self) -> str:
        return f"{self.url}/2010-04-01/Accounts/{self.options.account_sid}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("auth", self.auth)
        return self.session.get(f"{self.url}{path}", timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("auth", self.auth)
        return self.session.post(f"{self.url}{path}", timeout=10, **kwargs)

    def create_message(self, **params: str) -> requests.Response:
        return self.session.post(
            f"{self.account_url}/Messages.json", data=params, auth=self.auth, timeout=10
        )

    def fetch_message(self, message_sid: str) -> dict[str, Any]:
        response = self.session.get(
            f"{self.account_url}/Messages/{message_sid}.json", auth=self.auth, timeout=10
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def number(self, phone_number: str) -> dict[str, Any]:
        response = self.session.get(
            f"{self.account_url}/IncomingPhoneNumbers.json",
            params={"PhoneNumber": phone_number},
            auth=self.auth,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["incoming_phone_numbers"]
        assert len(found) == 1, found
        return found[0]

    def inbound(self, **data: Any) -> requests.Response:
        return self.session.post(f"{self.url}/sandbox/inbound", json=data, timeout=10)

    def stats(self) -> dict[str, Any]:
        response = self.session.get(f"{self.url}/sandbox/stats", timeout=10)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


SandboxFactory = Callable[..., Sandbox]


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """make_sandbox(**options) → a sandbox served on 127.0.0.1 with those ``Options``.

    Callbacks go out at once unless a test asks for a delay (``callback_delay_ms=0``).
    """
    started: list[tuple[BackgroundServer, Sandbox]] = []

    def make(**changes: Any) -> Sandbox:
        changes.setdefault("callback_delay_ms", 0)
        options = Options(**changes)
        server = BackgroundServer(build_app(options))
        server.start()
        sandbox = Sandbox(url=server.url, options=options)
        started.append((server, sandbox))
        return sandbox

    yield make
    for server, sandbox in reversed(started):
        sandbox.session.close()
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> Sandbox:
    """A sandbox with the default account, numbers and behaviour (callbacks without delay)."""
    return sandbox_factory()


# --- The phone sink -------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """One POST the sink received."""

    path: str  # the raw path and query, as requested
    url: str  # the full URL posted to
    headers: dict[str, str]  # lower-case names
    params: dict[str, str]  # the form
    received_at: float  # time.monotonic()

    @property
    def signature(self) -> str:
        return self.headers.get("x-twilio-signature", "")


@dataclass
class PhoneSink:
    """Records every POST; answers ``status`` with ``body`` (``content_type``)."""

    url: str = ""
    status: int = 204
    body: str = ""
    content_type: str = "text/plain"
    posts: list[Post] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        post = Post(
            path=request.raw_path,
            url=f"{self.url}{request.raw_path}",
            headers={name.lower(): value for name, value in request.headers.items()},
            params={name: str(value) for name, value in form.items()},
            received_at=time.monotonic(),
        )
        with self.lock:
            self.posts.append(post)
        if self.status == 204:
            return web.Response(status=204)
        return web.Response(status=self.status, text=self.body, content_type=self.content_type)

    def received(self, path: str | None = None) -> list[Post]:
        with self.lock:
            return [p for p in self.posts if path is None or p.path == path]

    def wait_for(
        self, count: int, path: str | None = None, *, timeout: float = DEADLINE_S
    ) -> list[Post]:
        """The first ``count`` posts (to ``path``), waiting up to ``timeout`` seconds."""
        wait_until(
            lambda: len(self.received(path)) >= count,
            timeout=timeout,
            what=f"{count} posts to {path or 'the sink'} (got {len(self.received(path))})",
        )
        return self.received(path)

    def callbacks_of(self, message_sid: str) -> list[Post]:
        return [p for p in self.received() if p.params.get("MessageSid") == message_sid]


@pytest.fixture
def phone_sink() -> Iterator[PhoneSink]:
    sink = PhoneSink()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", sink.handle)
    server = BackgroundServer(app)
    server.start()
    sink.url = server.url
    yield sink
    server.stop()


# --- Shared by test_rest_*.py: the default numbers, a recipient and Twilio's error shape ---

LOCAL, UNREGISTERED, TOLL_FREE = DEFAULT_NUMBERS
PHONE = "+15005550123"
OTHER_TOKEN = "0" * 32


def assert_twilio_error(response: requests.Response, status: int, code: int) -> dict[str, Any]:
    """An error in Twilio's shape: code, message, more_info and status."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert isinstance(body["message"], str)
    assert body["message"]
    return body
