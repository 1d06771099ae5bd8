"""The address a request came from, read through the proxies the deployment trusts.

Each proxy in front of the app appends the address it received the request from to
``X-Forwarded-For``. With ``TRUSTED_PROXY_COUNT = N`` the N-th entry from the right was written
by the outermost trusted proxy and is the client's address; anything to its left came from
the client itself and proves nothing, so it is never read. A header with fewer entries than
trusted proxies (or an entry that is not an address) means the request did not come through
them as configured: then ``REMOTE_ADDR``, the one address nobody can forge, is used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _parse(text: str) -> str | None:
    """``text`` as a canonical IP address; tolerates the port some proxies add."""
    text = text.strip()
    candidates = [text]
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:4711
        candidates.append(text[1 : text.index("]")])
    elif text.count(":") == 1:  # 192.0.2.1:4711
        candidates.append(text.partition(":")[0])
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(address)
    return None


def client_address(request: HttpRequest) -> str | None:
    remote = _parse(request.META.get("REMOTE_ADDR") or "")
    trusted = int(settings.TRUSTED_PROXY_COUNT)
    if trusted == 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR") or ""
    entries = [entry for entry in header.split(",") if entry.strip()]
    if len(entries) < trusted:
        return remote
    return _parse(entries[-trusted]) or remote
