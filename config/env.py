"""Small, strict readers for the environment variables in the README's configuration table.

Each reader rejects a malformed value with an error that names the variable, so a typo in a
deployment fails at start-up instead of silently falling back to a default. No reader ever
echoes a value back: some of these variables are secrets.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false, yes/no, on/off or 1/0.")


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_required(name: str, why: str) -> str:
    value = _raw(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} is required {why}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name} must be a comma-separated list without empty items.")
    return items


def env_url(name: str, default: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An absolute URL without a trailing slash (webhook URLs are built by appending paths)."""
    value = _raw(name) or default
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        allowed = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ImproperlyConfigured(f"{name} must be an absolute URL starting with {allowed}.")
    if parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must not have a query string or fragment.")
    return value.rstrip("/")


def env_fernet_keys(name: str, *, required: bool) -> list[str]:
    """Comma-separated Fernet keys: the first encrypts, all decrypt."""
    value = _raw(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(
                f"{name} is required when DEBUG is off: one or more comma-separated Fernet keys "
                "(generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')."
            )
        return []
    keys = env_list(name, [])
    for position, key in enumerate(keys, start=1):
        try:
            decoded = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            decoded = b""
        if len(decoded) != 32:
            raise ImproperlyConfigured(
                f"{name}: key {position} is not a Fernet key (32 url-safe base64-encoded bytes)."
            )
    return keys


def database_from_url(name: str, default_sqlite_path: Path) -> dict[str, Any]:
    """DATABASE_URL as Django's DATABASES["default"].

    Accepts postgres://, postgresql:// and sqlite:///<path>. Unset means the embedded SQLite
    file, tuned for a web server, workers and beat writing at once.
    """
    value = _raw(name)
    if value is None:
        return sqlite_database(default_sqlite_path)
    parts = urlsplit(value)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///relative/to/cwd.db → "relative/to/cwd.db"; sqlite:////abs/path.db → "/abs/..."
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ImproperlyConfigured(f"{name}: a sqlite URL needs a file path: sqlite:///path.db")
        return sqlite_database(Path(path))
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(
            f"{name} must start with postgres://, postgresql:// or sqlite:///."
        )
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ImproperlyConfigured(f"{name} must name a database: postgres://host:5432/name")
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} has an invalid port.") from exc
    options = dict(parse_qsl(parts.query))
    conn_max_age = options.pop("conn_max_age", "60")
    if not conn_max_age.isdigit():
        raise ImproperlyConfigured(f"{name}: conn_max_age must be a whole number of seconds.")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "CONN_MAX_AGE": int(conn_max_age),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


def sqlite_database(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # Writers take the lock when the transaction starts instead of failing with
            # "database is locked" halfway through; readers never block writers under WAL.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        },
    }
