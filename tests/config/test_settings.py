"""Settings as an operator meets them: processes started with a given environment."""

import os
import socketserver
import subprocess
import sys
import threading
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
    "EMAIL_URL": "smtp://mailer:hunter2-mail-secret@smtp.example.com:587?tls=true",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    names = (
        "DEBUG",
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEYS",
        "ALLOWED_HOSTS",
        "PUBLIC_BASE_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "EMAIL_URL",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "DEFAULT_FROM_EMAIL",
        "TRUSTED_PROXY_COUNT",
        "TWILIO_PRICING_BASE_URL",
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


def test_deploy_checks_name_what_debug_leaves_open():
    """The control for the clean run above: the deploy checks do read the security settings,
    which DEBUG relaxes (HSTS, the HTTPS redirect, secure cookies, DEBUG itself, the key)."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="true")
    assert result.returncode != 0
    for check in ("W004", "W008", "W009", "W012", "W016", "W018"):
        assert f"security.{check}" in result.stderr, check


@pytest.mark.parametrize(
    ("count", "header"), [("0", "None"), ("1", "('HTTP_X_FORWARDED_PROTO', 'https')")]
)
def test_x_forwarded_proto_is_trusted_only_behind_a_proxy(count, header):
    """A client connecting directly could claim HTTPS for its own plain connection."""
    env = {**PRODUCTION, "TRUSTED_PROXY_COUNT": count}
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    result = manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == header


def test_it_starts_in_debug_without_secrets():
    result = manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


def without(name: str) -> dict[str, str]:
    return {k: v for k, v in PRODUCTION.items() if k != name}


def test_it_refuses_to_start_without_email_when_debug_is_off():
    result = manage("check", **without("EMAIL_URL"))
    assert result.returncode != 0
    assert "EMAIL_URL (or EMAIL_HOST) is required when DEBUG is off" in result.stderr


def test_it_refuses_the_console_email_backend_when_debug_is_off():
    result = manage("check", **{**PRODUCTION, "EMAIL_URL": "console://"})
    assert result.returncode != 0
    assert "EMAIL_URL: console:// writes every e-mail" in result.stderr


def test_it_names_a_malformed_email_url_without_printing_its_value():
    bad = "smtp://mailer:hunter2-mail-secret@smtp.example.com:notaport"
    result = manage("check", **{**PRODUCTION, "EMAIL_URL": bad})
    assert result.returncode != 0
    assert "EMAIL_URL" in result.stderr
    assert "hunter2-mail-secret" not in result.stderr + result.stdout


def test_it_accepts_the_email_host_variables_instead_of_a_url():
    env = {
        **without("EMAIL_URL"),
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "hunter2-mail-secret",
        "EMAIL_USE_TLS": "true",
    }
    result = manage("check", **env)
    assert result.returncode == 0, result.stderr


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough of an SMTP server to receive one message."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpSession)
        self.messages: list[dict[str, object]] = []


class SmtpSession(socketserver.StreamRequestHandler):
    server: SmtpSink

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        envelope: dict[str, object] = {"rcpt": []}
        while line := self.rfile.readline().decode():
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                envelope["from"] = line[10:].strip()
                self.reply("250 ok")
            elif verb == "RCPT":
                envelope["rcpt"].append(line[8:].strip())  # type: ignore[attr-defined]
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                body = []
                while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                    body.append(data)
                envelope["data"] = "".join(body)
                self.server.messages.append(envelope)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


def test_it_sends_email_through_the_smtp_server_of_email_url():
    sink = SmtpSink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        port = sink.server_address[1]
        env = {
            **PRODUCTION,
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "DEFAULT_FROM_EMAIL": "Acme SMS <sms@acme.example>",
        }
        result = manage("sendtestemail", "ops@acme.example", **env)
    finally:
        sink.shutdown()
        sink.server_close()
    assert result.returncode == 0, result.stderr
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["from"] == "<sms@acme.example>"
    assert message["rcpt"] == ["<ops@acme.example>"]
    assert "From: Acme SMS <sms@acme.example>" in str(message["data"])
    # Nothing of the e-mail goes to the process's output, which is the log.
    assert "ops@acme.example" not in result.stdout + result.stderr


def test_it_reads_the_pricing_base_url_strictly_like_the_other_twilio_urls():
    show = "from django.conf import settings; print(settings.TWILIO_PRICING_BASE_URL)"
    default = manage("shell", "--no-imports", "-c", show, **PRODUCTION)
    pointed = manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        **{**PRODUCTION, "TWILIO_PRICING_BASE_URL": "http://127.0.0.1:8010/"},
    )
    malformed = manage("check", **{**PRODUCTION, "TWILIO_PRICING_BASE_URL": "pricing.twilio.com"})

    assert default.stdout.strip() == "https://pricing.twilio.com", default.stderr
    assert pointed.stdout.strip() == "http://127.0.0.1:8010", pointed.stderr
    assert malformed.returncode != 0
    assert (
        "TWILIO_PRICING_BASE_URL must be an absolute URL starting with http:// or https://"
        in malformed.stderr
    )
