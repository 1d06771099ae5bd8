from __future__ import annotations

import hashlib
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

# Sign-in throttling: after this many failures within the window, that email (or that
# address) must wait out the rest of the window. Counted in the cache, shared by all web
# processes when REDIS_URL is set.
LOGIN_FAILURES_PER_EMAIL = 5
LOGIN_FAILURES_PER_IP = 30
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


def _throttle_keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    keys = [(f"login-failures:email:{digest}", LOGIN_FAILURES_PER_EMAIL)]
    if ip:
        keys.append((f"login-failures:ip:{ip}", LOGIN_FAILURES_PER_IP))
    return keys


def login_throttled(*, email: str, ip: str | None) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in _throttle_keys(email, ip))


def login_failure_record(*, email: str, ip: str | None) -> None:
    for key, _limit in _throttle_keys(email, ip):
        # add() starts the window at the first failure; incr() does not extend it.
        if not cache.add(key, 1, timeout=LOGIN_WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=LOGIN_WINDOW_SECONDS)


def login_success_record(*, email: str) -> None:
    cache.delete(_throttle_keys(email, None)[0][0])


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
