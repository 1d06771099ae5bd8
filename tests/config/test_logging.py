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
