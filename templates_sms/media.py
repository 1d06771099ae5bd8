"""MMS media URLs: public HTTPS only, so a template cannot make Twilio (or us) fetch from
inside a private network.

Refused: a URL that parsers may read differently (a backslash, a user name or password, a
space or control character, a percent-encoded or otherwise malformed host); ``localhost`` and
names of a single label; an address that is not globally routable, in whatever way it is
written — IPv4 in dotted decimal or as the numbers, hex and octal a browser accepts, IPv6 that
carries an IPv4 address (mapped, translated, IPv4-compatible, NAT64, 6to4, Teredo), full-width
digits and other Unicode a host name is mapped from — and a host name that resolves to such an
address (every address it resolves to is checked). A public IPv4 address not in dotted decimal
is refused too: not every fetcher reads those forms alike. A host that does not resolve is kept
with a warning.

A check when the URL is saved cannot see a name whose DNS answer changes later (rebinding):
whoever fetches the media must not follow it into a private network either.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import SplitResult, urlsplit

from tenants.errors import ApplicationError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges whose last 32 bits are an IPv4 address (RFC 4291, RFC 2765, RFC 6052).
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated: no public host has one
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215): an operator's own translator, never a public address.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_HEX, _OCTAL, _DECIMAL = re.compile(r"0x[0-9a-f]*"), re.compile(r"0[0-7]+"), re.compile(r"[0-9]+")


def resolve_host(host: str) -> list[str]:
    """The host's addresses (tests replace this: no test may use DNS)."""
    infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _refuse(message: str) -> ApplicationError:
    return ApplicationError.for_field("media_url", message)


def _private(host: str) -> ApplicationError:
    return _refuse(
        f"{host} is a private, loopback or link-local address; media must be on the "
        "public internet."
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for, in every convention that embeds one."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _IPV4_TRANSLATED or ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _is_private(address: str | Address) -> bool:
    """Anything but a globally routable unicast address (private, loopback, link-local,
    carrier-grade NAT, multicast, reserved…), or an IPv6 address that stands for one."""
    ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _IPV4_COMPATIBLE or ip in _NAT64_LOCAL:
            return True
        if any(_is_private(embedded) for embedded in _embedded_ipv4(ip)):
            return True
    return not ip.is_global or ip.is_multicast


def _ipv4_number(part: str) -> int | None:
    """One part of an IPv4 host as the WHATWG URL standard (and inet_aton) read it."""
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):  # a leading zero means octal, "09" is nothing
        return int(part, 8) if _OCTAL.fullmatch(part) else None
    if _DECIMAL.fullmatch(part):
        return int(part, 10)
    return None


def _ipv4_host(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host stands for in a URL: dotted decimal, or one to four numbers in
    decimal, hex (0x…) or octal (0…), as browsers read it. None for a name. A host whose last
    label is a number is an address or nothing: a name it cannot be."""
    parts = host.split(".")
    last = parts[-1]
    if not (_DECIMAL.fullmatch(last) or _HEX.fullmatch(last)):
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise _refuse(f"{host} is neither a host name nor an IP address.")
    values = [n for n in numbers if n is not None]
    *head, tail = values
    if any(n > 255 for n in head) or tail >= 256 ** (5 - len(values)):
        raise _refuse(f"{host} is neither a host name nor an IP address.")
    number = tail + sum(n << (8 * (3 - i)) for i, n in enumerate(head))
    return ipaddress.IPv4Address(number)


def _split(url: str) -> SplitResult:
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise _refuse("The media URL must not contain spaces or control characters.")
    if "\\" in url:
        # "https://127.0.0.1\@evil.example/" is 127.0.0.1 to a browser, evil.example to us.
        raise _refuse("The media URL must not contain a backslash (\\).")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
    except ValueError:
        raise _refuse("The media URL is not a valid address.") from None
    if parts.scheme != "https" or not parts.hostname:
        raise _refuse("The media URL must be a public https:// address.")
    if "@" in parts.netloc:
        # Which side of the "@" is the host is another point parsers disagree on.
        raise _refuse("The media URL must not contain a user name or password (user@host).")
    return parts


def _name(host: str) -> str:
    """The host as a resolver is asked for it: Unicode mapped to ASCII (full-width digits
    and dots included), lower case, without the root label's dot, every label valid."""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _refuse(f"{host} is not a valid host name.") from None
    host = host.lower()
    # "10.0.0.1." is 10.0.0.1 to a browser's URL parser: drop the root label's dot.
    host = host.removesuffix(".")
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels) or len(host) > 253:
        raise _refuse(f"{host or 'The host'} is not a valid host name.")
    for label in labels:
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                raise _refuse(f"{host} is not a valid host name.") from None
    return host


def _literal(parts: SplitResult) -> tuple[str, Address | None]:
    """(host, its address when the host is an IP address written literally)."""
    hostname = parts.hostname or ""
    if parts.netloc.split(":")[0].startswith("["):  # an IPv6 literal, checked by urlsplit
        return hostname, ipaddress.IPv6Address(hostname.split("%")[0])
    host = _name(hostname)
    address = _ipv4_host(host)
    if address is not None and host != str(address):
        if _is_private(address):
            raise _private(f"{hostname} ({address})")
        raise _refuse(f"Write the address {hostname} as {address}.")
    return host, address


def media_url_check(url: str) -> str | None:
    """Raises for a URL that must not be used; returns a warning for one that may not work."""
    host, address = _literal(_split(url.strip()))
    if address is not None:
        if _is_private(address):
            raise _private(host)
        return None
    if host == "localhost" or host.endswith(".localhost") or "." not in host:
        raise _refuse(f"{host} is not a public host name; media must be on the public internet.")
    try:
        addresses = resolve_host(host)
    except (OSError, UnicodeError):
        return f"{host} does not resolve right now; Twilio will not be able to fetch the media."
    if any(_is_private(address) for address in addresses):
        raise _private(host)
    return None
