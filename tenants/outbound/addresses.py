"""Where a webhook may be posted: a public https:// address, checked when the endpoint is
saved and again right before every attempt, because a name's DNS answer can change (rebinding).

At send time the host is resolved once, every address it resolves to is checked, and the
request connects to the first of those checked addresses (``transport``): nothing resolves the
name again in between. ``OUTBOUND_WEBHOOKS_ALLOW_PRIVATE`` (development only) lets an endpoint
use plain http:// and private addresses, such as a receiver on the same machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult

from django.conf import settings

from tenants import public_hosts
from tenants.errors import ApplicationError
from tenants.public_hosts import HostRefused, PrivateHost

MAX_URL = 2000


class Refused(ApplicationError):
    """The URL must not be used (at save: the form's error; at send: the attempt's)."""


def _refuse(message: str) -> Refused:
    return Refused(message, fields={"url": [message]})


def _private(host: str) -> Refused:
    return _refuse(
        f"{host} is a private, loopback, link-local or otherwise internal address; webhooks "
        "are posted to the public internet only."
    )


@dataclass(frozen=True)
class Target:
    """Where one attempt goes: the URL's parts and the checked address to connect to."""

    parts: SplitResult
    host: str
    address: str


def _parts(url: str) -> tuple[SplitResult, str, str | None]:
    allow = settings.OUTBOUND_WEBHOOKS_ALLOW_PRIVATE
    if len(url) > MAX_URL:
        raise _refuse(f"The URL is longer than {MAX_URL} characters.")
    schemes = ("https", "http") if allow else ("https",)
    try:
        parts = public_hosts.split_url(
            url,
            label="The URL",
            schemes=schemes,
            scheme_message="The URL must be an https:// address."
            if not allow
            else "The URL must be an http:// or https:// address.",
        )
        host, address = public_hosts.literal_host(parts, allow_private=allow)
    except PrivateHost as exc:
        raise _private(exc.host) from None
    except HostRefused as exc:
        raise _refuse(exc.message) from None
    if address is None and public_hosts.local_name(host) and not allow:
        raise _refuse(f"{host} is not a public host name; use the receiver's full public name.")
    return parts, host, str(address) if address is not None else None


def _resolve(parts: SplitResult, host: str) -> list[str]:
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = public_hosts.resolve_host(host, port)
    except (OSError, UnicodeError):
        raise _refuse(f"{host} does not resolve to an address.") from None
    if not addresses:
        raise _refuse(f"{host} does not resolve to an address.")
    if not settings.OUTBOUND_WEBHOOKS_ALLOW_PRIVATE and any(
        public_hosts.is_private(a) for a in addresses
    ):
        raise _private(host)
    return addresses


def endpoint_url_check(url: str) -> str:
    """The URL as it is stored (trimmed), or ``Refused``; its host must resolve to public
    addresses only."""
    url = url.strip()
    if not url:
        raise _refuse("Give the URL to post to.")
    parts, host, address = _parts(url)
    if address is None:
        _resolve(parts, host)
    return url


def delivery_target(url: str) -> Target:
    """The checked address an attempt connects to, or ``Refused``."""
    parts, host, address = _parts(url)
    if address is not None:
        return Target(parts, host, address)
    return Target(parts, host, _resolve(parts, host)[0])
