"""One POST of a webhook: signed as Standard Webhooks says, to the address just checked.

- Headers: ``webhook-id`` (the event's ``evt_…``, the same on every attempt: receivers dedupe
  on it), ``webhook-timestamp`` (seconds since the epoch), ``webhook-signature`` (``v1,<base64
  HMAC-SHA256 of "id.timestamp.body">``, made by ``standardwebhooks.Webhook.sign``; two,
  space-separated, for a day after the secret was rotated), ``content-type:
  application/json`` and a ``User-Agent`` naming the product.
- The connection goes to the address ``addresses.delivery_target`` checked (the name is not
  resolved again; TLS still verifies the certificate against the name), no proxy from the
  environment, no redirect followed, 10 seconds to connect and 10 to read. A ``Poster`` keeps
  it alive for the next POST to the same endpoint in the same batch.
- Only the first 1 KB of the answer is read and kept.
"""

from __future__ import annotations

import datetime
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tenants.crypto import Secret
from tenants.outbound.addresses import Refused, delivery_target

TIMEOUT = 10  # seconds, to connect and again to read
BODY_KEPT = 1024  # bytes of the answer kept with the attempt
USER_AGENT = "SMS-Hub-Webhooks/1.0"


def body_of(payload: Mapping[str, Any]) -> str:
    """The bytes posted (and signed): compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def signed_headers(
    *, secrets: Sequence[Secret], webhook_id: str, timestamp: datetime.datetime, body: str
) -> dict[str, str]:
    signatures = [
        Webhook(secret.reveal()).sign(msg_id=webhook_id, timestamp=timestamp, data=body)
        for secret in secrets
    ]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(math.floor(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _pinned(address: str) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pools whose connections open a socket to ``address``, whatever the host
    name says; the name is still the Host header, the TLS server name and what the
    certificate must match."""

    def new_conn(connection: Any, base: type[HTTPConnection]) -> Any:
        name = connection._dns_host
        connection._dns_host = address
        try:
            return base._new_conn(connection)
        finally:
            connection._dns_host = name

    class PinnedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> Any:
            return new_conn(self, HTTPConnection)

    class PinnedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> Any:
            return new_conn(self, HTTPSConnection)

    class PinnedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = PinnedHTTPConnection

    class PinnedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPSConnection

    return {"http": PinnedHTTPConnectionPool, "https": PinnedHTTPSConnectionPool}


class PinnedAdapter(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pinned(self.address)


@dataclass(frozen=True)
class Answer:
    """What one attempt got: the status (None when no answer came), how long it took, the
    first 1 KB of the body, and the error in words ("" for a 2xx)."""

    status_code: int | None
    duration_ms: int
    body: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _text(raw: bytes) -> str:
    # No database text column can hold NUL.
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _read_head(response: requests.Response) -> bytes:
    kept = b""
    for chunk in response.iter_content(chunk_size=BODY_KEPT):
        kept += chunk
        if len(kept) >= BODY_KEPT:
            break
    return kept[:BODY_KEPT]


class Poster:
    """Posts to one endpoint's URL, over a connection kept alive from one POST to the next: a
    drain sends a batch's deliveries to an endpoint through one of these. The address is
    checked (and the name resolved) once, when it is made; ``close`` when done. Never raises
    for the network or the receiver (an address now refused is an error too: no connection
    is made)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.refused = ""
        self.session: requests.Session | None = None
        try:
            target = delivery_target(url)
        except Refused as refused:
            self.refused = f"Not sent: {refused.message}"[:300]
            return
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy from the environment between us and the check
        adapter = PinnedAdapter(target.address)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()

    def post(
        self, *, body: str, secrets: Sequence[Secret], webhook_id: str, at: datetime.datetime
    ) -> Answer:
        """Posts ``body``, signed at ``at``."""
        began = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - began) * 1000)

        if self.session is None:
            return Answer(None, took(), error=self.refused)
        headers = signed_headers(secrets=secrets, webhook_id=webhook_id, timestamp=at, body=body)
        try:
            response = self.session.post(
                self.url,
                data=body.encode(),
                headers=headers,
                timeout=TIMEOUT,
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout:
            return Answer(None, took(), error=f"No answer within {TIMEOUT} seconds.")
        except requests.ConnectionError as exc:
            return Answer(None, took(), error=f"Could not connect: {type(exc).__name__}.")
        except requests.RequestException as exc:
            return Answer(None, took(), error=f"The request failed: {type(exc).__name__}.")
        with response:
            try:
                head = _read_head(response)
            except requests.RequestException:
                head = b""
        status = response.status_code
        error = ""
        if 300 <= status < 400:
            error = f"Redirects are not followed (HTTP {status})."
        elif not 200 <= status < 300:
            error = f"HTTP {status}: the receiver did not accept it."
        return Answer(status, took(), _text(head), error)
