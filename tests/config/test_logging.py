import logging

from config.logging import OneLineFormatter, RedactSecretsFilter, redact


def record(msg: str, *args: object, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("smshub.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_it_masks_secrets_in_common_shapes():
    text = redact(
        "url=postgres://app:pa55word@db/hub auth_token=0123456789abcdef0123456789abcdef "
        'Authorization: Bearer smsh_live_abcdefghijkl {"password": "hunter2"} '
        "key dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA="
    )
    for secret in (
        "pa55word",
        "0123456789abcdef0123456789abcdef",
        "smsh_live_abcdefghijkl",
        "hunter2",
        "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA=",
    ):
        assert secret not in text
    assert "postgres://app:[redacted]@db/hub" in text


def test_it_leaves_twilio_sids_readable():
    sid = "AC0123456789abcdef0123456789abcdef"
    assert redact(f"account {sid} connected") == f"account {sid} connected"


def test_it_masks_secrets_passed_as_arguments():
    item = record("connecting with %s", "token=0123456789abcdef0123456789abcdef")
    RedactSecretsFilter().filter(item)
    assert item.getMessage() == "connecting with token=[redacted]"


def test_it_writes_one_line_per_event_even_with_a_traceback():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        item = record("failed", exc_info=sys.exc_info())
    line = OneLineFormatter().format(item)
    assert "\n" not in line
    assert "ERROR smshub.test failed" in line
    assert "ValueError: bad ⏎ thing" in line


def test_it_masks_the_secrets_in_token_bearing_paths():
    line = redact(
        '"GET /invitations/Xy_9-abcDEF123/ HTTP/1.1" 200 "https://hub.example.com/password-reset/'
        'MQ/d1xhob-0a1b2c3d/" POST /webhooks/twilio/inbound/InKey_42-x?x=1 '
        "next=%2Finvitations%2FEncTok3n%2F"
    )
    for secret in ("Xy_9-abcDEF123", "d1xhob-0a1b2c3d", "InKey_42-x", "EncTok3n"):
        assert secret not in line
    assert '"GET /invitations/[redacted]/ HTTP/1.1" 200' in line
    assert "/password-reset/MQ/[redacted]/" in line
    assert "/webhooks/twilio/inbound/[redacted]?x=1" in line


def test_it_leaves_paths_without_secrets_readable():
    text = (
        "/password-reset/ /password-reset/sent/ /password-reset/MQ/set-password/ "
        "/settings/invitations/8a6c1f2e-0000-4000-8000-000000000000/revoke/ "
        "/webhooks/twilio/status/8a6c1f2e-0000-4000-8000-000000000000"
    )
    assert redact(text) == text
