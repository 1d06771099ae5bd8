"""Is a URL's host on the public internet? The checks every room uses before something of
ours (or Twilio) fetches a URL a tenant gave: MMS media (``templates_sms.media``) and
outbound webhooks (``tenants.outbound.addresses``).

Refused: a URL that parsers may read differently (a backslash, a user name or password, a
space or control character, a percent-encoded or otherwise malformed host); an address that is
not globally routable, in whatever way it is written — IPv4 in dotted decimal or as the
numbers, hex and octal a browser accepts, IPv6 that carries an IPv4 address (mapped,
translated, IPv4-compatible, NAT64, 6to4, Teredo), full-width digits and other Unicode a host
name is mapped from. A public IPv4 address not in dotted decimal is refused too: not every
fetcher reads those forms alike. The callers add the names (``local_name``) and the DNS answer
(``resolve_host``, every address checked with ``is_private``).

Errors are ``HostRefused`` (``PrivateHost`` for an address inside a network), in words a
person can act on; each caller turns them into its own field's error.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Collection
from urllib.parse import SplitResult, urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges whose last 32 bits are an IPv4 address (RFC 4291, RFC 2765, RFC 6052).
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated: no public host has one
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215): an operator's own translator, never a public address.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_HEX, _OCTAL, _DECIMAL = re.compile(r"0x[0-9a-f]*"), re.compile(r"0[0-7]+"), re.compile(r"[0-9]+")


class HostRefused(Exception):
    """The URL must not be used; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PrivateHost(HostRefused):
    """The host is (or stands for) an address inside a network: ``host`` names it."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} is a private, loopback or link-local address.")
        self.host = host


def resolve_host(host: str, port: int = 443) -> list[str]:
    """The host's addresses (tests replace this or ``socket.getaddrinfo``: no test uses DNS)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for, in every convention that embeds one."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _IPV4_TRANSLATED or ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_private(address: str | Address) -> bool:
    """Anything but a globally routable unicast address (private, loopback, link-local — the
    cloud metadata service's 169.254.169.254 and fd00:ec2::254 among them —, carrier-grade
    NAT, multicast, reserved…), or an IPv6 address that stands for one."""
    ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _IPV4_COMPATIBLE or ip in _NAT64_LOCAL:
            return True
        if any(is_private(embedded) for embedded in _embedded_ipv4(ip)):
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
        raise HostRefused(f"{host} is neither a host name nor an IP address.")
    values = [n for n in numbers if n is not None]
    *head, tail = values
    if any(n > 255 for n in head) or tail >= 256 ** (5 - len(values)):
        raise HostRefused(f"{host} is neither a host name nor an IP address.")
    number = tail + sum(n << (8 * (3 - i)) for i, n in enumerate(head))
    return ipaddress.IPv4Address(number)


def split_url(
    url: str, *, label: str, schemes: Collection[str], scheme_message: str
) -> SplitResult:
    """The URL's parts, or ``HostRefused`` for one that parsers may read differently.
    ``label`` names the URL in the messages ("The media URL"); ``scheme_message`` is the
    refusal of a scheme not in ``schemes``, or of a URL without a host."""
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise HostRefused(f"{label} must not contain spaces or control characters.")
    if "\\" in url:
        # "https://127.0.0.1\@evil.example/" is 127.0.0.1 to a browser, evil.example to us.
        raise HostRefused(f"{label} must not contain a backslash (\\).")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
    except ValueError:
        raise HostRefused(f"{label} is not a valid address.") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise HostRefused(scheme_message)
    if "@" in parts.netloc:
        # Which side of the "@" is the host is another point parsers disagree on.
        raise HostRefused(f"{label} must not contain a user name or password (user@host).")
    return parts


def _name(host: str) -> str:
    """The host as a resolver is asked for it: Unicode mapped to ASCII (full-width digits
    and dots included), lower case, without the root label's dot, every label valid."""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise HostRefused(f"{host} is not a valid host name.") from None
    host = host.lower()
    # "10.0.0.1." is 10.0.0.1 to a browser's URL parser: drop the root label's dot.
    host = host.removesuffix(".")
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels) or len(host) > 253:
        raise HostRefused(f"{host or 'The host'} is not a valid host name.")
    for label in labels:
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                raise HostRefused(f"{host} is not a valid host name.") from None
    return host


def literal_host(parts: SplitResult, *, allow_private: bool = False) -> tuple[str, Address | None]:
    """(host, its address when the host is an IP address written literally). An address
    written in another form than its own is refused (``PrivateHost`` when it is private and
    ``allow_private`` is off), and so is a private literal address."""
    hostname = parts.hostname or ""
    if parts.netloc.split(":")[0].startswith("["):  # an IPv6 literal, checked by urlsplit
        address: Address | None = ipaddress.IPv6Address(hostname.split("%")[0])
        host = hostname
    else:
        host = _name(hostname)
        address = _ipv4_host(host)
        if address is not None and host != str(address):
            if is_private(address) and not allow_private:
                raise PrivateHost(f"{hostname} ({address})")
            raise HostRefused(f"Write the address {hostname} as {address}.")
    if address is not None and is_private(address) and not allow_private:
        raise PrivateHost(host)
    return host, address


def local_name(host: str) -> bool:
    """``localhost`` and its subdomains, and a name of a single label (a machine on the
    local network, or a name the resolver completes with its search domains)."""
    return host == "localhost" or host.endswith(".localhost") or "." not in host
