"""MMS media URLs: public HTTPS only, so a template cannot make Twilio (or us) fetch from
inside a private network. The address checks themselves are ``tenants.public_hosts``'s.

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

from tenants import public_hosts
from tenants.errors import ApplicationError
from tenants.public_hosts import HostRefused, PrivateHost, is_private, literal_host, split_url


def resolve_host(host: str) -> list[str]:
    """The host's addresses (tests replace this: no test may use DNS)."""
    return public_hosts.resolve_host(host, 443)


def _refuse(message: str) -> ApplicationError:
    return ApplicationError.for_field("media_url", message)


def _private(host: str) -> ApplicationError:
    return _refuse(
        f"{host} is a private, loopback or link-local address; media must be on the "
        "public internet."
    )


def media_url_check(url: str) -> str | None:
    """Raises for a URL that must not be used; returns a warning for one that may not work."""
    try:
        parts = split_url(
            url.strip(),
            label="The media URL",
            schemes=("https",),
            scheme_message="The media URL must be a public https:// address.",
        )
        host, address = literal_host(parts)
    except PrivateHost as exc:
        raise _private(exc.host) from None
    except HostRefused as exc:
        raise _refuse(exc.message) from None
    if address is not None:
        return None
    if public_hosts.local_name(host):
        raise _refuse(f"{host} is not a public host name; media must be on the public internet.")
    try:
        addresses = resolve_host(host)
    except (OSError, UnicodeError):
        return f"{host} does not resolve right now; Twilio will not be able to fetch the media."
    if any(is_private(address) for address in addresses):
        raise _private(host)
    return None
