"""What can go wrong when calling Twilio, as the rest of the project sees it: one exception,
``TwilioError``, carrying Twilio's code, the HTTP status, a sentence for people, and a ``kind``
that says what a caller may do next:

- ``retry``: the request never reached Twilio (connection refused, DNS), or Twilio asked us to
  slow down (HTTP 429, 20429; 21611 "queue full" with a longer backoff). Safe to send again.
- ``unknown``: a read timeout or a 5xx: Twilio may have acted (created the message), so look
  before trying again.
- ``permanent``: anything else; trying again gives the same answer.

The seam (``connections.twilio_api``) raises it; the ``classify_*`` functions turn the
library's and ``requests``' exceptions into it.
"""

from __future__ import annotations

import json
from enum import StrEnum

import requests
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)


class ErrorKind(StrEnum):
    RETRY = "retry"
    UNKNOWN = "unknown"
    PERMANENT = "permanent"


# What Twilio's error codes mean to a person reading our pages.
EXPLANATIONS = {
    20003: "Twilio refused the Account SID and Auth Token.",
    20404: "Twilio has no such resource in this account.",
    20429: "Twilio is rate limiting this account.",
    21211: "The recipient's number is not a valid phone number.",
    21408: "This Twilio account is not allowed to send to the recipient's country.",
    21602: "The message has no text and no media.",
    21606: "The sender is not an SMS-capable number of this Twilio account.",
    21608: "A Twilio trial account can only text numbers verified in the Twilio Console.",
    21610: "The recipient has replied STOP to this sender.",
    21611: "The sender's queue at Twilio is full.",
    21612: "Twilio cannot route a message from this sender to the recipient.",
    21614: "The recipient's number is not a mobile number.",
}
RETRY_CODES = {20429, 21611}
LONG_BACKOFF_CODES = {21611}


class TwilioError(Exception):
    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        code: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code
        self.status = status

    @property
    def long_backoff(self) -> bool:
        return self.code in LONG_BACKOFF_CODES

    @property
    def is_authentication_failure(self) -> bool:
        return self.code == 20003 or self.status == 401

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"code {self.code}" if self.code else "",
                f"HTTP {self.status}" if self.status else "",
            )
            if part
        )
        return f"{self.message} ({where}; {self.kind})" if where else self.message


def classify_rest(exc: TwilioRestException | TwilioServiceException) -> TwilioError:
    status = exc.status
    code = exc.code if isinstance(exc.code, int) and exc.code != status else None
    if isinstance(exc, TwilioServiceException):
        detail = exc.detail or exc.title
    else:
        # "Unable to create record: The 'To' number is not valid." → Twilio's own sentence.
        detail = str(exc.msg).split(": ", 1)[-1]
    message = EXPLANATIONS.get(code or 0) or detail or f"Twilio answered HTTP {status}."
    if status == 429 or code in RETRY_CODES:
        kind = ErrorKind.RETRY
    elif status >= 500:
        kind = ErrorKind.UNKNOWN
    else:
        kind = ErrorKind.PERMANENT
    return TwilioError(message, kind=kind, code=code, status=status)


def classify_page(exc: TwilioException) -> TwilioError:
    """A list's page that failed: the library raises a bare exception with the response."""
    response = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    if status is None:
        return TwilioError(str(exc.args[0] if exc.args else exc), kind=ErrorKind.PERMANENT)
    try:
        payload = json.loads(response.text)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        payload = {}
    code = payload.get("code") if isinstance(payload, dict) else None
    message = payload.get("message", "") if isinstance(payload, dict) else ""
    rest = TwilioRestException(status, "", message, code if isinstance(code, int) else status)
    return classify_rest(rest)


def classify_transport(exc: requests.RequestException) -> TwilioError:
    reached = not isinstance(exc, requests.ConnectTimeout)
    if isinstance(exc, requests.ConnectionError) and reached:
        # Refused or unresolvable before anything was sent, versus a connection dropped
        # mid-request (Twilio may have acted on it).
        reason = exc.args[0] if exc.args else None
        text = f"{type(getattr(reason, 'reason', reason)).__name__} {reason}"
        reached = not any(
            marker in text
            for marker in ("NewConnectionError", "NameResolutionError", "Connection refused")
        )
    if isinstance(exc, requests.ReadTimeout):
        return TwilioError("Twilio did not answer in time.", kind=ErrorKind.UNKNOWN)
    if not reached:
        return TwilioError("Twilio could not be reached.", kind=ErrorKind.RETRY)
    return TwilioError("The connection to Twilio was lost mid-request.", kind=ErrorKind.UNKNOWN)
