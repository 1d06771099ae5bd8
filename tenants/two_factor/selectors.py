from __future__ import annotations

import base64

from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.models import Membership, Organization, RecoveryCode, User
from tenants.selectors import user_memberships


def two_factor_device(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator, if two-factor sign-in is on."""
    device: TOTPDevice | None = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device


def two_factor_pending_device(user: User) -> TOTPDevice | None:
    """The authenticator being set up: created by "Turn on", not confirmed with a code yet."""
    device: TOTPDevice | None = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device


def two_factor_enabled(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def organizations_requiring_two_factor(user: User) -> list[Organization]:
    memberships = user_memberships(user).filter(organization__require_two_factor=True)
    return [membership.organization for membership in memberships]


def organization_two_factor_members(organization: Organization) -> tuple[int, int]:
    """How many of the organization's members use two-factor sign-in, and how many there are."""
    members = Membership.objects.filter(organization=organization)
    confirmed = TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)
    return members.filter(Exists(confirmed)).count(), members.count()


def device_secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
