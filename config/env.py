"""Small, strict readers for the environment variables in the README's configuration table.

Each reader rejects a malformed value with an error that names the variable, so a typo in a
deployment fails at start-up instead of silently falling back to a default. No reader ever
echoes a value back: some of these variables are secrets.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

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


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) < minimum:
        raise ImproperlyConfigured(f"{name} must be a whole number, {minimum} or more.")
    return int(value)


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


# --- E-mail -------------------------------------------------------------------------------

_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
_LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
_EMAIL_HOST_VARIABLES = (
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
)
_EMAIL_TIMEOUT = 10  # seconds: a mail server that hangs must not hold a web worker for long
_HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$")


@dataclass(frozen=True)
class EmailSettings:
    """Django's EMAIL_* settings, as read from the environment."""

    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    timeout: int | None = None


def email_from_env(*, debug: bool) -> EmailSettings:
    """Where e-mail goes: ``EMAIL_URL``, or ``EMAIL_HOST`` and its companions.

    ``EMAIL_URL`` is one of ``smtp://[user:password@]host[:port][?tls=true][&timeout=N]``
    (port 25, or 587 with STARTTLS), ``smtp+ssl://…`` (TLS from the first byte, port 465),
    ``locmem://`` (kept in memory: tests) and ``console://`` (printed: ``DEBUG`` only).
    Credentials are percent-encoded. Unset, and with no ``EMAIL_HOST`` either, ``DEBUG``
    prints e-mail to the console; without ``DEBUG`` start-up stops, because password-reset
    and invitation links printed there would end up in the log.
    """
    url = _raw("EMAIL_URL")
    host_variables = [name for name in _EMAIL_HOST_VARIABLES if _raw(name) is not None]
    if url is not None and host_variables:
        raise ImproperlyConfigured(
            f"EMAIL_URL and {', '.join(host_variables)} are alternatives: set one of them."
        )
    if url is not None:
        email = _email_from_url(url)
    elif host_variables:
        email = _email_from_host_variables()
    elif debug:
        return EmailSettings(backend=_CONSOLE_BACKEND)
    else:
        raise ImproperlyConfigured(
            "EMAIL_URL (or EMAIL_HOST) is required when DEBUG is off: password-reset and "
            "invitation e-mails need a mail server, e.g. "
            "EMAIL_URL=smtp://user:password@smtp.example.com:587?tls=true."
        )
    if email.backend == _CONSOLE_BACKEND and not debug:
        raise ImproperlyConfigured(
            "EMAIL_URL: console:// writes every e-mail, password-reset and invitation links "
            "included, to the log; it is allowed only when DEBUG is on."
        )
    return email


def _email_from_url(value: str) -> EmailSettings:
    name = "EMAIL_URL"
    schemes = "smtp://, smtp+ssl://, locmem:// or console://"
    parts = urlsplit(value)
    if parts.scheme in ("locmem", "console"):
        if parts.netloc or parts.path or parts.query or parts.fragment or "?" in value:
            raise ImproperlyConfigured(f"{name}: {parts.scheme}:// takes nothing after it.")
        return EmailSettings(
            backend=_LOCMEM_BACKEND if parts.scheme == "locmem" else _CONSOLE_BACKEND
        )
    if parts.scheme not in ("smtp", "smtp+ssl") or not value.startswith(f"{parts.scheme}://"):
        raise ImproperlyConfigured(f"{name} must start with {schemes}.")
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name} must name the mail server: smtp://host:587")
    if parts.path not in ("", "/") or parts.fragment:
        raise ImproperlyConfigured(f"{name} must not have a path or fragment.")
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} has an invalid port.") from exc
    if port == 0:
        raise ImproperlyConfigured(f"{name} has an invalid port.")
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if password and not user:
        raise ImproperlyConfigured(f"{name} has a password without a user name.")
    try:
        options = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} has a malformed query string.") from exc
    allowed = {"tls", "timeout"} if parts.scheme == "smtp" else {"timeout"}
    unknown = set(options) - allowed
    if unknown or any(len(values) != 1 for values in options.values()):
        accepted = " and ".join(f"?{option}=" for option in sorted(allowed))
        raise ImproperlyConfigured(
            f"{name} takes only {accepted} once each after {parts.scheme}://."
        )
    use_tls = _query_bool(name, "tls", options.get("tls", ["false"])[0])
    timeout = options.get("timeout", [str(_EMAIL_TIMEOUT)])[0]
    if not (timeout.isascii() and timeout.isdigit()) or int(timeout) == 0:
        raise ImproperlyConfigured(f"{name}: timeout must be a whole number of seconds.")
    use_ssl = parts.scheme == "smtp+ssl"
    return EmailSettings(
        backend=_SMTP_BACKEND,
        host=parts.hostname,
        port=port or (465 if use_ssl else 587 if use_tls else 25),
        user=user,
        password=password,
        use_tls=use_tls,
        use_ssl=use_ssl,
        timeout=int(timeout),
    )


def _query_bool(name: str, option: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: {option} must be true or false.")


def _email_from_host_variables() -> EmailSettings:
    host = _raw("EMAIL_HOST")
    if host is None:
        given = next(name for name in _EMAIL_HOST_VARIABLES if _raw(name) is not None)
        raise ImproperlyConfigured(f"{given} needs EMAIL_HOST (the mail server) as well.")
    if not _HOST_NAME.match(host):
        raise ImproperlyConfigured("EMAIL_HOST must be a host name or address, not a URL.")
    use_tls = env_bool("EMAIL_USE_TLS", False)
    port = env_int("EMAIL_PORT", 587 if use_tls else 25, minimum=1)
    if port > 65535:
        raise ImproperlyConfigured("EMAIL_PORT must be a whole number from 1 to 65535.")
    user = _raw("EMAIL_HOST_USER") or ""
    password = os.environ.get("EMAIL_HOST_PASSWORD", "")
    if password.strip() and not user:
        raise ImproperlyConfigured("EMAIL_HOST_PASSWORD needs EMAIL_HOST_USER as well.")
    return EmailSettings(
        backend=_SMTP_BACKEND,
        host=host,
        port=port,
        user=user,
        password=password if password.strip() else "",
        use_tls=use_tls,
        timeout=_EMAIL_TIMEOUT,
    )


def env_email_address(name: str, default: str) -> str:
    """An address to send from: ``sms@example.com`` or ``SMS Hub <sms@example.com>``."""
    value = _raw(name)
    if value is None:
        return default
    _display, address = parseaddr(value)
    try:
        validate_email(address)
    except ValidationError:
        address = ""
    if not address or any(c in value for c in "\r\n"):
        raise ImproperlyConfigured(
            f"{name} must be an address, such as sms@example.com or SMS Hub <sms@example.com>."
        )
    return value
