"""Twilio misbehaving on purpose, for fault tests: going away for a while (the port refuses
connections, open ones are dropped, webhooks wait), status callbacks held back and released
late, and callbacks posted again when the web did not take them.

The unknown outcomes of a create (500s, slow answers) are drawn in ``Account.create_fault``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.web import ACCOUNT, RUNTIME, post_signed, spawn

logger = logging.getLogger("sandbox")

MAX_OUTAGE_S = 3600.0


@dataclass
class Listener:
    """Where the sandbox listens (set by ``listen``), so that an outage can close the port and
    open it again on the same address, the account's state kept."""

    runner: web.AppRunner | None = None
    host: str = "127.0.0.1"
    port: int = 0
    site: web.TCPSite | None = None

    async def open(self) -> None:
        assert self.runner is not None  # noqa: S101 - listen() sets it before anything opens
        self.site = web.TCPSite(self.runner, self.host, self.port)
        await self.site.start()
        self.port = int(self.runner.addresses[-1][1])

    async def close(self) -> None:
        """Refuses new connections and drops the open ones (requests in flight included), as a
        host that went away: the caller sees a reset or a refusal, never an answer."""
        site, self.site = self.site, None
        if site is not None:
            await site.stop()
        server = self.runner.server if self.runner else None
        for connection in list(server.connections if server else []):
            if connection.transport is not None:
                connection.transport.abort()


LISTENER = web.AppKey("listener", Listener)


async def listen(app: web.Application, runner: web.AppRunner, host: str, port: int) -> int:
    """Serves ``app`` (set up by ``runner``) on ``host``:``port`` (0: any free port); returns
    the port. The outage control needs the sandbox started this way."""
    listener = app[LISTENER]
    listener.runner, listener.host, listener.port = runner, host, port
    await listener.open()
    return listener.port


async def _form(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except json.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}
    return dict(await request.post())


async def outage(request: web.Request) -> web.StreamResponse:
    """``POST /sandbox/outage`` with ``seconds``: answers 202, then the sandbox stops listening
    for that long and comes back with its state (callbacks due meanwhile go out after)."""
    listener = request.app[LISTENER]
    try:
        seconds = float((await _form(request)).get("seconds", ""))
    except (TypeError, ValueError):
        seconds = 0.0
    if not 0 < seconds <= MAX_OUTAGE_S:
        return web.json_response(
            {"error": f"seconds must be a number above 0 and at most {MAX_OUTAGE_S:.0f}"},
            status=400,
        )
    if listener.site is None:
        return web.json_response({"error": "the sandbox is not listening"}, status=409)
    runtime = request.app[RUNTIME]
    if not runtime.up.is_set():
        return web.json_response({"error": "an outage is already under way"}, status=409)
    runtime.up.clear()
    response = web.json_response({"outage_seconds": seconds}, status=202)
    await response.prepare(request)
    await response.write_eof()  # sent before the connection it came on is dropped
    spawn(request.app, _go_away(request.app, seconds))
    return response


async def _go_away(app: web.Application, seconds: float) -> None:
    listener, runtime = app[LISTENER], app[RUNTIME]
    await listener.close()
    logger.warning("outage: not listening for %.1f s", seconds)
    try:
        await asyncio.sleep(seconds)
    finally:
        runtime.up.set()  # held webhooks go out even if the port cannot be had again
        await listener.open()
    logger.warning("outage over: listening again on port %d", listener.port)


async def post_callback(app: web.Application, url: str, params: dict[str, str]) -> None:
    """A status callback: held back while ``hold_callbacks`` is on, else posted now."""
    if app[ACCOUNT].options.hold_callbacks:
        app[RUNTIME].held.append((url, params))
    else:
        await post_callback_now(app, url, params)


async def post_callback_now(app: web.Application, url: str, params: dict[str, str]) -> None:
    """Posts a status callback, and again, up to ``callback_retries`` times, while the web
    answers 5xx or not at all; each answer is counted."""
    account = app[ACCOUNT]
    for attempt in range(account.options.callback_retries + 1):
        if attempt:
            account.callback_retried += 1
            await asyncio.sleep(account.options.callback_retry_ms / 1000)
        answer, _body = await post_signed(app, url, params)
        account.callback_answers[str(answer) if answer else "error"] += 1
        if answer is not None and answer < 500:
            return


async def release(request: web.Request) -> web.Response:
    """``POST /sandbox/callbacks/release``: every held callback goes out now (in the order
    they were due, through the usual slots); answers how many. Holding goes on for later ones
    unless ``hold`` is false (JSON or form)."""
    account, runtime = request.app[ACCOUNT], request.app[RUNTIME]
    data = await _form(request)
    if "hold" in data:
        account.options.hold_callbacks = str(data["hold"]).lower() in ("1", "true", "yes", "on")
    held, runtime.held = runtime.held, []
    spawn(request.app, _post_all(request.app, held))
    return web.json_response(
        {"released": len(held), "holding": account.options.hold_callbacks}, status=202
    )


async def _post_all(app: web.Application, held: list[tuple[str, dict[str, str]]]) -> None:
    await asyncio.gather(*(post_callback_now(app, url, params) for url, params in held))
