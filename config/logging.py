"""Log lines for stdout: one line per event, with anything that looks like a secret masked.

Code never logs secrets on purpose; the filter is the net under that rule, for the cases
nobody thought of (an exception message quoting a URL with a password, a library echoing an
Authorization header).
"""

from __future__ import annotations

import logging
import re

from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter

_MASK = "[redacted]"
_SLASH = r"(?:/|%2F)"
_SEGMENT = r"[^\s/?#&%\"'<>]+"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Passwords inside URLs: postgres://user:secret@host → postgres://user:[redacted]@host
    (
        re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+(?=@)", re.I),
        rf"\g<keep>{_MASK}",
    ),
    # Authorization headers, Bearer and Basic credentials.
    (
        re.compile(r"(?P<keep>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}", re.I),
        rf"\g<keep>{_MASK}",
    ),
    # key=value and "key": "value" pairs whose name says secret.
    (
        re.compile(
            r"(?P<keep>\b[\w-]*(?:token|secret|password|passwd|api_?key|auth)[\w-]*"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&}]+",
            re.I,
        ),
        rf"\g<keep>{_MASK}",
    ),
    # A bare 32-hex-digit string is what a Twilio Auth Token looks like.
    (re.compile(r"\b[0-9a-f]{32}\b"), _MASK),
    # Standard Webhooks signing secrets (outbound webhooks): whsec_ and base64.
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), f"whsec_{_MASK}"),
    # Fernet keys: 44 characters of url-safe base64 ending in "=".
    (re.compile(r"\b[A-Za-z0-9_-]{43}="), _MASK),
    # Paths whose last part is a secret, wherever they appear: a request line, a Referer, a
    # ?next=, plain or percent-encoded. An invitation link (but not /settings/invitations/<id>,
    # the admin's page about one), a password-reset link (its token; "set-password" is the
    # placeholder Django swaps in), the inbound webhook with its key, and an automation's
    # incoming webhook with its secret (the automation's id stays readable).
    (
        re.compile(rf"(?P<keep>(?<!settings){_SLASH}invitations{_SLASH}){_SEGMENT}", re.I),
        rf"\g<keep>{_MASK}",
    ),
    (
        re.compile(
            rf"(?P<keep>{_SLASH}password-reset{_SLASH}{_SEGMENT}{_SLASH})(?!set-password\b)"
            rf"{_SEGMENT}",
            re.I,
        ),
        rf"\g<keep>{_MASK}",
    ),
    (
        re.compile(
            rf"(?P<keep>{_SLASH}webhooks{_SLASH}twilio{_SLASH}inbound{_SLASH}){_SEGMENT}", re.I
        ),
        rf"\g<keep>{_MASK}",
    ),
    (
        re.compile(
            rf"(?P<keep>{_SLASH}webhooks{_SLASH}automations{_SLASH}{_SEGMENT}{_SLASH}){_SEGMENT}",
            re.I,
        ),
        rf"\g<keep>{_MASK}",
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Renders the message once, masks secrets in it, and drops the arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


class OneLineFormatter(logging.Formatter):
    """``time level logger message``; tracebacks are folded onto the same line."""

    def __init__(self) -> None:
        super().__init__(fmt="%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        return redact(line.replace("\r", "").replace("\n", " ⏎ "))


class RedactingExceptionReporter(ExceptionReporter):
    """The report Django builds of a failure (its error email, its debug page), masked as log
    lines are. Its filter hides settings, POST fields and frames marked sensitive, but every
    other frame's local variables are printed, and the twilio library's request passes through
    ``requests`` frames holding the ``(account_sid, auth_token)`` pair for Basic auth."""

    # Masking puts "[redacted]" where text was: the page stays as safe as Django made it.
    def get_traceback_html(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_text()))  # noqa: S308
