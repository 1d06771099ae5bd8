"""Turning two-factor sign-in on and off, recovery codes, checking codes, and the
organization's requirement.

Wrong codes are counted per account in the cache (shared by all web processes when REDIS_URL
is set), over a window that starts at the first one: 5 within 15 minutes, at sign-in or on the
account pages, and the account takes no code until the window ends. The count spans sign-ins,
so typing the password again does not buy more guesses, and a password reset does not clear
it. A right code clears it. Five guesses per quarter hour at one in a million each (three
codes are valid at once: the drift tolerance) is about one chance in 700 a day.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.actor import Actor
from tenants.audit.models import Action, TargetType
from tenants.audit.services import Target, audit_record, changes_of
from tenants.errors import AccessDenied, ApplicationError, ConflictError
from tenants.models import Organization, RecoveryCode, Role, User
from tenants.two_factor.selectors import (
    organizations_requiring_two_factor,
    two_factor_device,
    two_factor_enabled,
)

logger = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
# No 0/o or 1/i/l, which people misread; 16 characters of 31 are about 79 random bits.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_GROUPS = 4
RECOVERY_GROUP_LENGTH = 4
DEVICE_NAME = "Authenticator app"

CODE_FAILURES_PER_USER = 5
CODE_WINDOW_SECONDS = 15 * 60
THROTTLED_MESSAGE = "Too many wrong codes. Wait 15 minutes and try again."
WRONG_CODE_MESSAGE = "That code is not right. Enter the 6 digits your authenticator app shows now."
WRONG_CODE_OR_RECOVERY_MESSAGE = (
    "That code is not right. Enter the 6 digits your authenticator app shows now, "
    "or one of your unused recovery codes."
)


class CodeThrottled(ApplicationError):
    status = 429
    code = "throttled"


def _failures_key(user: User) -> str:
    return f"two-factor-failures:user:{user.public_id}"


def two_factor_throttled(*, user: User) -> bool:
    return int(cache.get(_failures_key(user)) or 0) >= CODE_FAILURES_PER_USER


def _failure_record(user: User) -> None:
    key = _failures_key(user)
    # add() starts the window at the first failure; incr() does not extend it.
    if not cache.add(key, 1, timeout=CODE_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=CODE_WINDOW_SECONDS)


def _refuse(user: User, error: ApplicationError) -> ApplicationError:
    """Counts the failure; the error to raise (the throttle's, if that was the last guess)."""
    _failure_record(user)
    logger.info("two-factor code refused: user %s", user.public_id)
    if two_factor_throttled(user=user):
        return CodeThrottled(THROTTLED_MESSAGE, fields={"code": [THROTTLED_MESSAGE]})
    return error


def recovery_code_normalize(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(recovery_code_normalize(code).encode()).hexdigest()


def _recovery_codes_issue(user: User) -> list[str]:
    """Ten new codes in place of any earlier ones; only their hashes are kept."""
    codes = [
        "-".join(
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
            for _ in range(RECOVERY_GROUPS)
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=_recovery_hash(code)) for code in codes]
    )
    return codes


def _recovery_code_use(user: User, code: str) -> bool:
    found = (
        RecoveryCode.objects.filter(user=user, code_hash=_recovery_hash(code), used_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )
    # The conditional update is the claim: of two requests with the same code, one wins.
    return (
        found is not None
        and RecoveryCode.objects.filter(pk=found, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        == 1
    )


def _code_check(*, user: User, device: TOTPDevice, code: str, recovery: bool) -> None:
    """The authenticator's code (each accepted once: django-otp keeps the last time step) or,
    with ``recovery``, an unused recovery code, which is used up. Raises when wrong."""
    if two_factor_throttled(user=user):
        raise CodeThrottled(THROTTLED_MESSAGE, fields={"code": [THROTTLED_MESSAGE]})
    typed = "".join(code.split())
    if re.fullmatch(r"\d{6}", typed):
        accepted = bool(device.verify_token(typed))
    else:
        accepted = recovery and _recovery_code_use(user, typed)
    if not accepted:
        message = WRONG_CODE_OR_RECOVERY_MESSAGE if recovery else WRONG_CODE_MESSAGE
        raise _refuse(user, ApplicationError.for_field("code", message))
    cache.delete(_failures_key(user))


def two_factor_sign_in_check(*, user: User, code: str) -> TOTPDevice:
    """The second step of signing in: an authenticator or recovery code. Answers the device
    the session is then verified with (the same whichever kind of code was typed)."""
    device = two_factor_device(user)
    if device is None:
        raise ApplicationError("Two-factor sign-in is not on for this account.")
    with transaction.atomic():
        _code_check(user=user, device=device, code=code, recovery=True)
    return device


@transaction.atomic
def two_factor_setup_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator with a fresh secret (replacing an unfinished one)."""
    if two_factor_enabled(user):
        raise ConflictError("Two-factor sign-in is already on.")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device: TOTPDevice = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def two_factor_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """The first right code turns it on; answers the device and the ten recovery codes,
    which are never shown again."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise ConflictError("Nothing to confirm: choose “Turn on” to start again.")
    _code_check(user=user, device=device, code=code, recovery=False)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_issue(user)
    logger.info("two-factor sign-in turned on: user %s", user.public_id)
    return device, codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    """Ten new recovery codes for a current authenticator code; the old ones stop working."""
    device = two_factor_device(user)
    if device is None:
        raise ConflictError("Two-factor sign-in is not on.")
    _code_check(user=user, device=device, code=code, recovery=False)
    codes = _recovery_codes_issue(user)
    logger.info("two-factor recovery codes replaced: user %s", user.public_id)
    return codes


def _requiring_names(organizations: list[Organization]) -> str:
    names = [f"“{organization.name}”" for organization in organizations]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@transaction.atomic
def two_factor_disable(*, user: User, password: str, code: str) -> None:
    """Turns it off, with the password and a code (or a recovery code); refused while an
    organization the user belongs to requires it."""
    requiring = organizations_requiring_two_factor(user)
    if requiring:
        verb = "requires" if len(requiring) == 1 else "require"
        raise ConflictError(
            f"{_requiring_names(requiring)} {verb} two-factor sign-in, so it stays on while "
            "you belong there."
        )
    device = two_factor_device(user)
    if device is None:
        raise ConflictError("Two-factor sign-in is not on.")
    if two_factor_throttled(user=user):
        raise CodeThrottled(THROTTLED_MESSAGE, fields={"code": [THROTTLED_MESSAGE]})
    if not user.check_password(password):
        raise _refuse(user, ApplicationError.for_field("password", "That is not your password."))
    _code_check(user=user, device=device, code=code, recovery=True)
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    logger.info("two-factor sign-in turned off: user %s", user.public_id)


@transaction.atomic
def organization_two_factor_require(
    *, organization: Organization, by: Actor, required: bool
) -> Organization:
    """Owners only; an owner turns the requirement on only once they use it themself."""
    if by.role != Role.OWNER or by.organization.pk != organization.pk:
        raise AccessDenied("Only an owner can change whether two-factor sign-in is required.")
    if required and (by.user is None or not two_factor_enabled(by.user)):
        raise ApplicationError.for_field(
            "require_two_factor",
            "Turn on two-factor sign-in for yourself first (your account menu → Two-factor "
            "sign-in), then require it of everyone.",
        )
    before = organization.require_two_factor
    with transaction.atomic():
        organization.require_two_factor = required
        organization.save(update_fields=["require_two_factor", "updated_at"])
        if before != required:
            audit_record(
                organization=organization,
                action=Action.TWO_FACTOR_REQUIREMENT_CHANGED,
                target=Target.of(TargetType.ORGANIZATION, organization, organization.name),
                changes=changes_of(
                    {"require_two_factor": before}, {"require_two_factor": required}
                ),
                actor=by,
            )
    logger.info(
        "two-factor requirement %s: organization %s by %s",
        "on" if required else "off",
        organization.public_id,
        by,
    )
    return organization
