from __future__ import annotations

import hashlib
import ipaddress
import logging

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tenants.errors import ApplicationError, ConflictError
from tenants.models import Organization, User, normalize_email
from tenants.services.organizations import organization_create

logger = logging.getLogger(__name__)

# Sign-in throttling, counted in the cache (shared by all web processes when REDIS_URL is
# set), each count over a window that starts at its first failure:
#
# - per account: 5 failures for one email, from any addresses, lock that email for the rest
#   of the window. Failures for an email without an account count only toward that email's
#   own lock (so every email answers alike), which locks nothing real.
# - per address: 30 failures against real accounts from one client address lock that
#   address, for every email. Failures for unknown emails do not count here: they cannot
#   take over anything, and counting them let anyone lock everyone out.
#
# What an attacker with one address can do in a window: try 5 passwords on each account it
# names (locking those accounts for their owners too: the price of capping guesses per
# account, lifted by a password reset), and 30 against real accounts in all, so lock at most
# 6 accounts; then that address is refused. Many addresses buy more sprays but never more
# than 5 guesses per account. It cannot: lock anyone out with emails that have no account,
# lock out a real user at another address, or pose as another address: the address comes
# from the trusted proxies' entries in X-Forwarded-For (tenants/client_address.py), never
# from what the client wrote there. IPv6 addresses count by /64, the block one subscriber
# usually gets. Left to the proxy: raw request rates (each attempt for an unknown email still
# costs a password hash, as signing up does).
LOGIN_FAILURES_PER_EMAIL = 5
LOGIN_FAILURES_PER_ADDRESS = 30
LOGIN_WINDOW_SECONDS = 15 * 60


@transaction.atomic
def user_create(*, email: str, password: str, full_name: str = "") -> User:
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise ConflictError.for_field(
            "email", "An account with this email already exists. Log in instead."
        )
    candidate = User(email=email, full_name=full_name.strip())
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ApplicationError.for_field("password", " ".join(exc.messages)) from exc
    return User.objects.create_user(email, password, full_name=full_name.strip())


@transaction.atomic
def user_signup(
    *,
    email: str,
    password: str,
    full_name: str,
    organization_name: str,
    time_zone: str = "UTC",
    default_country: str = "US",
) -> tuple[User, Organization]:
    """A new person with a new organization, of which they are the owner."""
    user = user_create(email=email, password=password, full_name=full_name)
    organization = organization_create(
        name=organization_name, owner=user, time_zone=time_zone, default_country=default_country
    )
    return user, organization


def _email_key(email: str) -> str:
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    return f"login-failures:email:{digest}"


def _address_key(address: str) -> str:
    ip = ipaddress.ip_address(address)
    block = ipaddress.ip_network(f"{ip}/64", strict=False) if ip.version == 6 else ip
    return f"login-failures:address:{block}"


def _count_failure(key: str) -> None:
    # add() starts the window at the first failure; incr() does not extend it.
    if not cache.add(key, 1, timeout=LOGIN_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=LOGIN_WINDOW_SECONDS)


def login_throttled(*, email: str, address: str | None) -> bool:
    limits = {_email_key(email): LOGIN_FAILURES_PER_EMAIL}
    if address:
        limits[_address_key(address)] = LOGIN_FAILURES_PER_ADDRESS
    counts = cache.get_many(list(limits))
    return any((counts.get(key) or 0) >= limit for key, limit in limits.items())


def login_failure_record(*, email: str, address: str | None) -> None:
    _count_failure(_email_key(email))
    if address and User.objects.filter(email=normalize_email(email)).exists():
        _count_failure(_address_key(address))


def login_failures_clear(*, email: str) -> None:
    """After a sign-in or a completed password reset: that account's count starts again.

    The address's count is kept: an attacker signing in to their own account between
    guesses must not wipe the record of the guesses.
    """
    cache.delete(_email_key(email))


def sessions_clear_expired() -> int:
    """Delete expired sign-in sessions; returns how many were removed."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@transaction.atomic
def demo_ensure(*, email: str, password: str) -> tuple[User, Organization]:
    """The development login that `make run` prints, owning a demo organization.

    Created on the first run; later runs keep the password in step with ``.env``.
    """
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None:
        user = User.objects.create_user(email, password, full_name="Demo User")
    elif not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    membership = (
        user.memberships.filter(organization__deletion_requested_at__isnull=True)
        .select_related("organization")
        .first()
    )
    if membership is not None:
        return user, membership.organization
    return user, organization_create(name="Demo Organization", owner=user)
