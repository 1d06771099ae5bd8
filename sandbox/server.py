"""The sandbox's HTTP server: Twilio's REST paths, signed callbacks, and the phones page.

One asyncio process (aiohttp) serves Twilio's three hosts the app calls (the API's
``/2010-04-01/…``, Messaging's ``/v1/Services…`` and ``/v1/Tollfree…``, Pricing's
``/v1/Messaging/Countries/…``) and the sandbox's own pages under ``/sandbox/``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

from aiohttp import ClientSession, ClientTimeout, web

from sandbox import callbacks, faults, pricing, rest, usage
from sandbox.state import Account, Options
from sandbox.web import ACCOUNT, RUNTIME, Runtime, twilio_errors


async def _session(app: web.Application) -> AsyncIterator[None]:
    # Twilio gives a webhook 15 seconds to answer.
    runtime = Runtime(
        session=ClientSession(timeout=ClientTimeout(total=15)),
        slots=asyncio.Semaphore(app[ACCOUNT].options.callback_concurrency),
    )
    app[RUNTIME] = runtime
    yield
    for task in list(runtime.tasks):
        task.cancel()
    await runtime.session.close()


def build_app(options: Options) -> web.Application:
    app = web.Application(middlewares=[twilio_errors])
    app[ACCOUNT] = Account.create(options)
    app[faults.LISTENER] = faults.Listener()
    app.cleanup_ctx.append(_session)
    accounts = "/2010-04-01/Accounts/{account_sid}"
    app.add_routes(
        [
            web.get(accounts + ".json", rest.account_fetch),
            web.get(accounts + "/IncomingPhoneNumbers.json", rest.numbers_list),
            web.post(accounts + "/IncomingPhoneNumbers/{number_sid}.json", rest.number_update),
            web.get(accounts + "/SMS/ShortCodes.json", rest.short_codes_list),
            web.post(accounts + "/Messages.json", rest.message_create),
            web.get(accounts + "/Messages.json", rest.messages_list),
            web.get(accounts + "/Messages/{message_sid}.json", rest.message_fetch),
            web.get(accounts + "/Usage/Records/Daily.json", usage.daily_records),
            web.get("/v1/Services", rest.services_list),
            web.get("/v1/Services/{service_sid}", rest.service_fetch),
            web.get("/v1/Services/{service_sid}/PhoneNumbers", rest.service_numbers),
            web.get("/v1/Tollfree/Verifications", rest.toll_free_verifications),
            web.get("/v1/Messaging/Countries/{iso_country}", pricing.messaging_country),
            web.get("/sandbox/", callbacks.phones),
            web.post("/sandbox/inbound", callbacks.inbound),
            web.post("/sandbox/outcomes", callbacks.outcomes),
            web.get("/sandbox/stats", callbacks.stats),
            web.get("/sandbox/arrivals", callbacks.arrivals),
            web.post("/sandbox/outage", faults.outage),
            web.post("/sandbox/callbacks/release", faults.release),
        ]
    )
    return app


async def serve(app: web.Application, host: str, port: int) -> None:
    """Serves the sandbox on ``host``:``port`` until SIGTERM or SIGINT, then stops cleanly (the
    command's loop; ``web.run_app`` would hide the site an outage closes and reopens)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await faults.listen(app, runner, host, port)
        await stopping.wait()
    finally:
        await runner.cleanup()


def describe(options: Options, url: str) -> str:
    """What the command prints on start: everything a script needs to use the sandbox."""
    lines = [
        f"Twilio sandbox listening on {url}",
        f"  Account SID:  {options.account_sid}",
        f"  Auth Token:   {options.auth_token}",
        f"  Numbers:      {', '.join(options.numbers)}",
        f"  Phones page:  {url}/sandbox/",
        f"  Use it with:  TWILIO_API_BASE_URL={url} TWILIO_MESSAGING_BASE_URL={url} "
        f"TWILIO_PRICING_BASE_URL={url}",
    ]
    return "\n".join(lines)
