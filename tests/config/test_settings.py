"""Settings as an operator meets them: processes started with a given environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
KEY = "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA="
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-grade-secret-key-with-plenty-of-entropy-8Jk2mQ9xZ",
    "FIELD_ENCRYPTION_KEYS": KEY,
    "ALLOWED_HOSTS": "hub.example.com",
    "PUBLIC_BASE_URL": "https://hub.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    names = (
        "DEBUG",
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEYS",
        "ALLOWED_HOSTS",
        "PUBLIC_BASE_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    )
    base = {k: v for k, v in os.environ.items() if k not in names}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_it_refuses_to_start_without_a_required_secret(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert f"{missing} is required when DEBUG is off" in result.stderr


def test_it_names_a_malformed_variable_without_printing_its_value():
    result = manage("check", **{**PRODUCTION, "FIELD_ENCRYPTION_KEYS": "hunter2-secret"})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS: key 1 is not a Fernet key" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout


def test_deploy_checks_are_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_it_starts_in_debug_without_secrets():
    result = manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr
