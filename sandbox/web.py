"""What every sandbox handler shares: the app's keys, Twilio-shaped errors and pages, Basic
auth, and posting signed requests the way Twilio does."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web
from twilio.request_validator import RequestValidator
from yarl import URL

from sandbox.state import Account, TwilioError

logger = logging.getLogger("sandbox")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Runtime:
    """The client for callbacks, the callbacks in flight (referenced until done), the slots
    that bound how many are in flight at once, whether the sandbox is up (an outage holds
    every webhook until it ends), and the status callbacks held back for a later release
    (URL and form, in the order they were due)."""

    session: ClientSession
    slots: asyncio.Semaphore
    tasks: set[asyncio.Future[None]] = field(default_factory=set)
    up: asyncio.Event = field(default_factory=asyncio.Event)
    held: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.up.set()


ACCOUNT = web.AppKey("account", Account)
RUNTIME = web.AppKey("runtime", Runtime)


def twilio_json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


@web.middleware
async def twilio_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Basic auth on Twilio's paths, and errors in Twilio's shape."""
    account = request.app[ACCOUNT]
    try:
        if not request.path.startswith("/sandbox"):
            user, password = basic_auth(request)
            account.check_auth(user, password)
            if "account_sid" in request.match_info and (
                request.match_info["account_sid"] != account.options.account_sid
            ):
                raise TwilioError(404, 20404, "The requested resource was not found")
        return await handler(request)
    except TwilioError as error:
        return twilio_json(error.body(), status=error.status)
    except ConnectionResetError:
        # The caller is gone mid-request (an outage dropped it): there is no one to answer.
        logger.info("%s %s: the connection was dropped", request.method, request.path)
        return web.Response(status=499)


def basic_auth(request: web.Request) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return "", ""
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def account_url(account: Account, tail: str = "") -> str:
    return f"/2010-04-01/Accounts/{account.options.account_sid}{tail}"


def page(key: str, items: list[dict[str, Any]], uri: str, page_size: int) -> dict[str, Any]:
    return {
        key: items,
        "end": max(len(items) - 1, 0),
        "first_page_uri": uri,
        "next_page_uri": None,
        "page": 0,
        "page_size": page_size,
        "previous_page_uri": None,
        "start": 0,
        "uri": uri,
    }


def v1_page(key: str, items: list[dict[str, Any]], url: str, page_size: int) -> dict[str, Any]:
    return {
        key: items,
        "meta": {
            "first_page_url": url,
            "key": key,
            "next_page_url": None,
            "page": 0,
            "page_size": page_size,
            "previous_page_url": None,
            "url": url,
        },
    }


def page_size(request: web.Request, default: int = 50) -> int:
    try:
        return max(1, min(1000, int(request.query.get("PageSize", default))))
    except ValueError:
        return default


def spawn(app: web.Application, coroutine: Awaitable[None]) -> None:
    task = asyncio.ensure_future(coroutine)
    app[RUNTIME].tasks.add(task)
    task.add_done_callback(app[RUNTIME].tasks.discard)


async def post_signed(
    app: web.Application, url: str, params: dict[str, str]
) -> tuple[int | None, str]:
    """POSTs form ``params`` to ``url`` signed like Twilio: (status or None, body)."""
    account = app[ACCOUNT]
    signature = RequestValidator(account.options.auth_token).compute_signature(url, params)
    headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
    try:
        # encoded=True: request the URL exactly as given (and signed), as Twilio does.
        target = URL(url, encoded=True)
        runtime = app[RUNTIME]
        await runtime.up.wait()  # Twilio posts nothing while it is down
        async with (
            runtime.slots,  # waiting for a slot is not part of the request's timeout
            runtime.session.post(target, data=params, headers=headers) as response,
        ):
            return response.status, await response.text()
    except Exception as exc:  # any failure to deliver is itself the answer we record
        logger.warning("callback to %s failed: %s", url, type(exc).__name__)
        return None, ""
