from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_fernet_keys, env_list, env_url

KEY = "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA="


def test_it_reads_booleans_strictly(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"^FLAG must be one of"):
        env_bool("FLAG", False)


def test_it_uses_the_default_for_unset_or_blank_values(monkeypatch):
    monkeypatch.delenv("FLAG", raising=False)
    assert env_bool("FLAG", True) is True
    monkeypatch.setenv("FLAG", "  ")
    assert env_bool("FLAG", False) is False


def test_it_rejects_empty_list_items(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example.com, b.example.com")
    assert env_list("HOSTS", []) == ["a.example.com", "b.example.com"]
    monkeypatch.setenv("HOSTS", "a.example.com,,b")
    with pytest.raises(ImproperlyConfigured, match="HOSTS"):
        env_list("HOSTS", [])


@pytest.mark.parametrize(
    "value", ["api.twilio.com", "ftp://x.example.com", "https://", "https://x.example.com/?a=1"]
)
def test_it_rejects_malformed_urls(monkeypatch, value):
    monkeypatch.setenv("SOME_URL", value)
    with pytest.raises(ImproperlyConfigured, match=r"^SOME_URL"):
        env_url("SOME_URL", "https://default.example.com")


def test_it_strips_the_trailing_slash_of_urls(monkeypatch):
    monkeypatch.setenv("SOME_URL", "https://hub.example.com/")
    assert env_url("SOME_URL", "https://default.example.com") == "https://hub.example.com"


def test_it_accepts_several_fernet_keys(monkeypatch):
    other = "b3RoZXItdGVzdC1rZXktdGhhdC1pcy0zMi1ieXRlcyE="
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{KEY},{other}")
    assert env_fernet_keys("FIELD_ENCRYPTION_KEYS", required=True) == [KEY, other]


def test_it_rejects_a_bad_fernet_key_without_echoing_it(monkeypatch):
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{KEY},not-a-real-key-secret")
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_fernet_keys("FIELD_ENCRYPTION_KEYS", required=True)
    assert "key 2 is not a Fernet key" in str(excinfo.value)
    assert "not-a-real-key-secret" not in str(excinfo.value)


def test_it_requires_fernet_keys_when_told_to(monkeypatch):
    monkeypatch.delenv("FIELD_ENCRYPTION_KEYS", raising=False)
    assert env_fernet_keys("FIELD_ENCRYPTION_KEYS", required=False) == []
    with pytest.raises(ImproperlyConfigured, match=r"^FIELD_ENCRYPTION_KEYS is required"):
        env_fernet_keys("FIELD_ENCRYPTION_KEYS", required=True)


def test_it_parses_a_postgres_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app:p%40ss@db.internal:5433/hub?sslmode=require")
    config = database_from_url("DATABASE_URL", Path("unused.sqlite3"))
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("hub", "app", "p@ss")
    assert (config["HOST"], config["PORT"]) == ("db.internal", "5433")
    assert config["OPTIONS"] == {"sslmode": "require"}
    assert config["CONN_HEALTH_CHECKS"] is True


def test_it_defaults_to_sqlite_with_wal_and_immediate_transactions(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = database_from_url("DATABASE_URL", tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "db.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert "busy_timeout" in config["OPTIONS"]["init_command"]


@pytest.mark.parametrize(
    "value", ["mysql://x@h/db", "postgres://h:5432/", "postgres://h:notaport/db", "sqlite://"]
)
def test_it_rejects_unsupported_database_urls(monkeypatch, value):
    monkeypatch.setenv("DATABASE_URL", value)
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_URL"):
        database_from_url("DATABASE_URL", Path("unused.sqlite3"))
