"""A local receiver of outbound webhooks for ``bench.webhooks``: the tenant's system, as fast as
it can be, so that what is measured is the hub's delivery and not the receiver.

One asyncio process answers every POST with 204 at once (HTTP/1.1, keep-alive) and notes its
``webhook-id`` and the time it arrived. Every ``--verify-every``-th request (and the first) is
checked with the ``standardwebhooks`` package against ``--secret``: a bad signature is counted.
``GET /stats`` answers what it saw: requests, distinct ids, duplicates, bad signatures, and each
id's first arrival (epoch seconds).

    python -m bench.webhook_receiver --port 8765 --secret whsec_…
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self, secret: str, verify_every: int) -> None:
        self.webhook = Webhook(secret)
        self.verify_every = verify_every
        self.requests = 0
        self.bad_signatures = 0
        self.first_seen: dict[str, float] = {}

    def received(self, headers: dict[str, str], body: bytes) -> None:
        self.requests += 1
        webhook_id = headers.get("webhook-id", "")
        self.first_seen.setdefault(webhook_id, time.time())
        if self.requests % self.verify_every == 1 or self.verify_every == 1:
            try:
                self.webhook.verify(body, headers)
            except WebhookVerificationError:
                self.bad_signatures += 1

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "distinct": len(self.first_seen),
            "duplicates": self.requests - len(self.first_seen),
            "bad_signatures": self.bad_signatures,
            "first_seen": self.first_seen,
        }

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method == "GET" and path == "/stats":
                    answer = json.dumps(self.stats()).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        + f"content-length: {len(answer)}\r\n\r\n".encode()
                        + answer
                    )
                else:
                    self.received(headers, body)
                    writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--verify-every", type=int, default=50)
    options = parser.parse_args()
    receiver = Receiver(options.secret, options.verify_every)
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", options.port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
