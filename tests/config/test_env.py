from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    database_from_url,
    email_from_env,
    env_bool,
    env_email_address,
    env_fernet_keys,
    env_int,
    env_list,
    env_url,
)

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


# --- E-mail: EMAIL_URL, or EMAIL_HOST and its companions ------------------------------------

EMAIL_VARIABLES = (
    "EMAIL_URL",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
)
SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture
def no_email(monkeypatch):
    """No e-mail variable set (the test environment sets EMAIL_URL=locmem://)."""
    for name in EMAIL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_it_reads_an_smtp_url_with_starttls(no_email):
    no_email.setenv("EMAIL_URL", "smtp://mailer:s3cret@smtp.example.com:587?tls=true")
    email = email_from_env(debug=False)
    assert email.backend == SMTP
    assert (email.host, email.port) == ("smtp.example.com", 587)
    assert (email.user, email.password) == ("mailer", "s3cret")
    assert (email.use_tls, email.use_ssl) == (True, False)
    assert email.timeout == 10


def test_it_reads_an_smtp_ssl_url_with_its_default_port(no_email):
    no_email.setenv("EMAIL_URL", "smtp+ssl://mailer:pw@smtp.example.com?timeout=30")
    email = email_from_env(debug=False)
    assert (email.host, email.port, email.use_tls, email.use_ssl) == (
        "smtp.example.com",
        465,
        False,
        True,
    )
    assert email.timeout == 30


def test_it_defaults_smtp_ports_by_security(no_email):
    no_email.setenv("EMAIL_URL", "smtp://relay.internal")
    plain = email_from_env(debug=False)
    assert (plain.port, plain.use_tls, plain.user, plain.password) == (25, False, "", "")
    no_email.setenv("EMAIL_URL", "smtp://relay.internal?tls=true")
    assert email_from_env(debug=False).port == 587


def test_it_decodes_percent_encoded_credentials(no_email):
    no_email.setenv(
        "EMAIL_URL", "smtp://apikey%40example.com:p%40ss%2Fw%3Ard@smtp.example.com:2525"
    )
    email = email_from_env(debug=False)
    assert (email.user, email.password, email.port) == ("apikey@example.com", "p@ss/w:rd", 2525)


def test_it_keeps_mail_in_memory_with_locmem(no_email):
    no_email.setenv("EMAIL_URL", "locmem://")
    assert email_from_env(debug=False).backend == "django.core.mail.backends.locmem.EmailBackend"


def test_it_uses_the_console_only_in_debug(no_email):
    assert email_from_env(debug=True).backend == "django.core.mail.backends.console.EmailBackend"
    no_email.setenv("EMAIL_URL", "console://")
    assert email_from_env(debug=True).backend == "django.core.mail.backends.console.EmailBackend"
    with pytest.raises(ImproperlyConfigured, match=r"^EMAIL_URL: console:// .*only when DEBUG"):
        email_from_env(debug=False)


def test_it_requires_email_when_debug_is_off(no_email):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        email_from_env(debug=False)
    message = str(excinfo.value)
    assert message.startswith("EMAIL_URL (or EMAIL_HOST) is required when DEBUG is off")


@pytest.mark.parametrize(
    "value",
    [
        "smtp://",
        "smtp://:hunter2-secret@",
        "smtps://user:hunter2-secret@smtp.example.com",
        "mailto:hunter2-secret@example.com",
        "hunter2-secret",
        "smtp://user:hunter2-secret@smtp.example.com:notaport",
        "smtp://user:hunter2-secret@smtp.example.com:0",
        "smtp://user:hunter2-secret@smtp.example.com/path",
        "smtp://user:hunter2-secret@smtp.example.com?tls=maybe",
        "smtp://user:hunter2-secret@smtp.example.com?tls=true&tls=false",
        "smtp://user:hunter2-secret@smtp.example.com?ssl=true",
        "smtp://user:hunter2-secret@smtp.example.com?timeout=0",
        "smtp://user:hunter2-secret@smtp.example.com?timeout=soon",
        "smtp://user:hunter2-secret@smtp.example.com#frag",
        "smtp://:hunter2-secret@smtp.example.com",
        "smtp+ssl://user:hunter2-secret@smtp.example.com?tls=true",
        "console://user:hunter2-secret@smtp.example.com",
        "locmem://hunter2-secret",
        "locmem://?hunter2-secret=1",
    ],
)
def test_it_rejects_malformed_email_urls_without_echoing_them(no_email, value):
    no_email.setenv("EMAIL_URL", value)
    with pytest.raises(ImproperlyConfigured, match=r"^EMAIL_URL") as excinfo:
        email_from_env(debug=True)
    assert "hunter2-secret" not in str(excinfo.value)


def test_it_reads_the_email_host_variables(no_email):
    no_email.setenv("EMAIL_HOST", "smtp.example.com")
    no_email.setenv("EMAIL_HOST_USER", "mailer")
    no_email.setenv("EMAIL_HOST_PASSWORD", "s3cret")
    no_email.setenv("EMAIL_USE_TLS", "true")
    email = email_from_env(debug=False)
    assert email.backend == SMTP
    assert (email.host, email.port, email.user, email.password) == (
        "smtp.example.com",
        587,
        "mailer",
        "s3cret",
    )
    assert (email.use_tls, email.use_ssl, email.timeout) == (True, False, 10)
    no_email.setenv("EMAIL_PORT", "2525")
    no_email.setenv("EMAIL_USE_TLS", "false")
    email = email_from_env(debug=False)
    assert (email.port, email.use_tls) == (2525, False)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"EMAIL_URL": "smtp://h.example.com", "EMAIL_HOST": "h.example.com"}, "^EMAIL_URL and"),
        ({"EMAIL_URL": "locmem://", "EMAIL_HOST_PASSWORD": "hunter2-secret"}, "^EMAIL_URL and"),
        ({"EMAIL_PORT": "587"}, "^EMAIL_PORT needs EMAIL_HOST"),
        ({"EMAIL_HOST": "h.example.com", "EMAIL_PORT": "hunter2-secret"}, "^EMAIL_PORT must"),
        ({"EMAIL_HOST": "h.example.com", "EMAIL_PORT": "70000"}, "^EMAIL_PORT must"),
        ({"EMAIL_HOST": "h.example.com", "EMAIL_USE_TLS": "hunter2-secret"}, "^EMAIL_USE_TLS"),
        (
            {"EMAIL_HOST": "h.example.com", "EMAIL_HOST_PASSWORD": "hunter2-secret"},
            "^EMAIL_HOST_PASSWORD needs EMAIL_HOST_USER",
        ),
        ({"EMAIL_HOST": "smtp://h.example.com"}, "^EMAIL_HOST must be a host name"),
    ],
)
def test_it_rejects_inconsistent_email_variables(no_email, variables, message):
    for name, value in variables.items():
        no_email.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message) as excinfo:
        email_from_env(debug=True)
    assert "hunter2-secret" not in str(excinfo.value)


def test_it_reads_a_sender_address(monkeypatch):
    monkeypatch.delenv("DEFAULT_FROM_EMAIL", raising=False)
    assert env_email_address("DEFAULT_FROM_EMAIL", "SMS Hub <a@b.example>") == (
        "SMS Hub <a@b.example>"
    )
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", "Acme SMS <sms@acme.example>")
    assert env_email_address("DEFAULT_FROM_EMAIL", "x") == "Acme SMS <sms@acme.example>"
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", "sms@acme.example")
    assert env_email_address("DEFAULT_FROM_EMAIL", "x") == "sms@acme.example"


@pytest.mark.parametrize("value", ["not an address", "Acme <sms@>", "a@b.example\nBcc: x@y"])
def test_it_rejects_a_malformed_sender_address(monkeypatch, value):
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", value)
    with pytest.raises(ImproperlyConfigured, match=r"^DEFAULT_FROM_EMAIL must be an address"):
        env_email_address("DEFAULT_FROM_EMAIL", "x")


def test_it_reads_whole_numbers_strictly(monkeypatch):
    monkeypatch.delenv("COUNT", raising=False)
    assert env_int("COUNT", 0) == 0
    monkeypatch.setenv("COUNT", " 2 ")
    assert env_int("COUNT", 0) == 2
    for bad in ("-1", "1.5", "two", "0x1", "²"):
        monkeypatch.setenv("COUNT", bad)
        with pytest.raises(ImproperlyConfigured, match=r"^COUNT must be a whole number"):
            env_int("COUNT", 0)
