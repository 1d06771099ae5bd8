from __future__ import annotations

import datetime
import uuid
import zoneinfo
from typing import Any, ClassVar

import phonenumbers
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def normalize_email(email: str) -> str:
    """Emails are the login, compared without regard to case."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the operators' admin site."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("email",)

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.TextChoices):
    """What a member or an API key may do. Each role includes the ones below it."""

    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MARKETER = "marketer", "Marketer"
    VIEWER = "viewer", "Viewer"

    @classmethod
    def rank(cls, role: str) -> int:
        return {cls.VIEWER: 0, cls.MARKETER: 1, cls.ADMIN: 2, cls.OWNER: 3}[cls(role)]

    @classmethod
    def at_least(cls, role: str | None, minimum: str) -> bool:
        return role is not None and cls.rank(role) >= cls.rank(minimum)


ROLE_DESCRIPTIONS = {
    Role.OWNER: "Everything an admin can do, and deleting the organization.",
    Role.ADMIN: "Manages the Twilio connection, members and API keys.",
    Role.MARKETER: "Writes contacts, templates and automations, and sends messages.",
    Role.VIEWER: "Reads everything, changes nothing.",
}
API_KEY_ROLES = (Role.ADMIN, Role.MARKETER, Role.VIEWER)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as America/New_York.")


def validate_country(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"“{value}” is not a two-letter country code such as US.")


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def active(self) -> OrganizationQuerySet:
        """Organizations not being deleted; one being deleted is gone for everyone at once."""
        return self.filter(deletion_requested_at__isnull=True)


class Organization(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    default_country = models.CharField(
        max_length=2,
        default="US",
        validators=[validate_country],
        help_text="Used to read phone numbers written without a country code.",
    )
    send_window_start = models.TimeField(
        default=datetime.time(8, 0),
        help_text="Messages that respect quiet hours go out only between this time…",
    )
    send_window_end = models.TimeField(
        default=datetime.time(21, 0),
        help_text="…and this one, in the contact's time zone.",
    )
    frequency_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="At most this many messages per contact in any 24 hours. Empty: no cap.",
    )
    opt_out_footer = models.CharField(
        max_length=100,
        default="Reply STOP to opt out",
        help_text="Appended to templates that ask for it.",
    )
    help_reply = models.CharField(
        max_length=320,
        blank=True,
        help_text="Sent back when someone texts HELP or INFO. Empty: no reply.",
    )
    message_retention_days = models.PositiveIntegerField(
        default=400,
        validators=[MinValueValidator(30), MaxValueValidator(3650)],
        help_text="Messages older than this are deleted.",
    )
    # Each API key's rate limit (tenants.api_ratelimit); empty: the defaults, API_RATE_LIMIT
    # and API_BURST (20 a second, bursts of 100).
    api_rate_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="Requests per second each API key may make. Empty: the default.",
    )
    api_burst = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="Requests each API key may make at once. Empty: the default.",
    )
    # Changed by owners only (tenants.two_factor.services), so it is not in
    # ORGANIZATION_SETTINGS, which admins may change.
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Everyone who belongs to the organization must use two-factor sign-in.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deletion_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


# What admins may change (pages and API); the slug stays fixed because scripts use it.
ORGANIZATION_SETTINGS = (
    "name",
    "time_zone",
    "default_country",
    "send_window_start",
    "send_window_end",
    "frequency_cap",
    "opt_out_footer",
    "help_reply",
    "message_retention_days",
    "api_rate_limit",
    "api_burst",
)


class Membership(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "user"), name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.organization}"


class Invitation(models.Model):
    """A single-use link that adds whoever signs in with ``email`` to the organization."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    # Only a hash is kept: the link is shown once, to the admin who made it, and emailed.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ApiKey(models.Model):
    """``Authorization: Bearer <key>``. The key is shown once; only its hash is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=80)
    role = models.CharField(
        max_length=16, choices=[(r.value, r.label) for r in API_KEY_ROLES], default=Role.ADMIN
    )
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix}… {self.role}>"


class IdempotencyKey(models.Model):
    """The first answer to an API request with an ``Idempotency-Key``, kept 24 hours (for
    every room's creating POSTs, so it lives in the lowest one)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "messaging_idempotencykey"  # made by messaging, which used to hold it
        constraints = [
            models.UniqueConstraint(fields=("organization", "key"), name="idempotency_key_once")
        ]

    def __str__(self) -> str:
        return self.key


class RecoveryCode(models.Model):
    """A one-time code that stands in for the authenticator app at sign-in.

    django-otp's StaticToken would keep the codes in plain text; they are as good as a
    password, so only a SHA-256 hash is stored (each code carries about 79 random bits, so a
    leaked hash cannot be guessed back) and each row is used up by setting ``used_at``.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=("user", "code_hash"), name="recovery_code_lookup")]

    def __str__(self) -> str:
        return f"Recovery code of {self.user}"
