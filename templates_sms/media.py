"""MMS media URLs: public HTTPS only, so a template cannot make Twilio (or us) fetch from
inside a private network. A literal private, loopback or link-local address is refused, and
so is a host name that resolves to one; a host that does not resolve is kept with a warning.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from tenants.errors import ApplicationError


def resolve_host(host: str) -> list[str]:
    """The host's addresses (tests replace this: no test may use DNS)."""
    infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _is_private(address: str) -> bool:
    """Anything but a globally routable unicast address (private, loopback, link-local,
    carrier-grade NAT, 6to4 of a private address, multicast, reserved…)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None and not embedded.is_global:
            return True
    return not ip.is_global or ip.is_multicast


def media_url_check(url: str) -> str | None:
    """Raises for a URL that must not be used; returns a warning for one that may not work."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ApplicationError.for_field(
            "media_url", "The media URL must be a public https:// address."
        )
    # "10.0.0.1." is 10.0.0.1 to a browser's URL parser: drop the root label's dot.
    host = parts.hostname.rstrip(".")
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            addresses = resolve_host(host)
        except (OSError, UnicodeError):
            return f"{host} does not resolve right now; Twilio will not be able to fetch the media."
    if any(_is_private(address) for address in addresses):
        raise ApplicationError.for_field(
            "media_url",
            f"{host} is a private, loopback or link-local address; media must be on the "
            "public internet.",
        )
    return None
