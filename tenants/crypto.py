"""Encryption of stored secrets: MultiFernet with the keys of ``FIELD_ENCRYPTION_KEYS``.

The first key encrypts; every key decrypts, so keys can be rotated: add a new key in front,
run ``python manage.py rotate_encryption_keys``, then drop the old key.

Encrypted columns are ``EncryptedTextField``: they hold ciphertext, and nothing decrypts them
behind the caller's back. Code that needs the secret asks for it (``decrypt``) right before
using it, and keeps it in a ``Secret``, whose ``repr`` and ``str`` show nothing of it.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Ciphertext of a secret. Marks the column for ``rotate_encryption_keys``."""


class Secret:
    """A decrypted secret that never shows itself in a repr, a log line or a debug page."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@functools.cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is not set, so secrets cannot be stored or read."
        )
    return MultiFernet([Fernet(key) for key in keys])


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


class DecryptionError(Exception):
    """None of the configured keys opens this value (a key was dropped too early)."""


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> Secret:
    try:
        return Secret(_fernet().decrypt(ciphertext.encode()).decode())
    except InvalidToken as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS; was its key removed "
            "before rotate_encryption_keys ran?"
        ) from exc


def reencrypt(ciphertext: str) -> str:
    """The same secret, encrypted under the first key."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("A stored secret cannot be decrypted with any key.") from exc
