"""`create_api_key` as a script runs it: its standard output is the key and nothing else."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config.test_settings import PRODUCTION

BASE_DIR = Path(__file__).resolve().parents[2]
KEY = re.compile(r"smsh_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


@pytest.fixture(scope="module")
def manage(tmp_path_factory):
    """Runs manage.py in its own process, on a database of its own, with production settings."""
    database = tmp_path_factory.mktemp("commands") / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(PRODUCTION, DATABASE_URL=f"sqlite:///{database}")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert run("migrate", "--noinput", "-v", "0").returncode == 0
    made = run(
        "create_organization", "Scripted", "--owner-email", "ops@scripted.example",
        "--owner-password", "correct-horse-battery-staple",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return run


def test_it_prints_only_the_key_on_stdout(manage):
    result = manage("create_api_key", "scripted", "--name", "CRM sync", "--role", "marketer")
    assert result.returncode == 0, result.stderr
    assert KEY.fullmatch(result.stdout.removesuffix("\n")), result.stdout
    assert result.stdout.count("\n") == 1


def test_it_still_logs_the_event_without_the_key(manage):
    result = manage("create_api_key", "scripted", "--name", "BI")
    key = result.stdout.strip()
    prefix = key.split("_")[1]
    assert f"api key created: {prefix}…" in result.stderr
    assert key.split("_", 2)[2] not in result.stderr
