"""What the sandbox's Twilio account holds, and Twilio's rules for messages.

Plain data and pure functions; the HTTP server in ``sandbox.server`` drives them. Nothing here
knows about SMS Hub: the sandbox speaks only Twilio's contract.
"""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

# Fixed, documented defaults so scripts (and `make run`) can rely on them.
DEFAULT_ACCOUNT_SID = "AC0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DEFAULT_AUTH_TOKEN = "5a9d1c7e3b8f2a6d4c0e9b7a5f3d1c8e"  # noqa: S105 - a public test value
DEFAULT_NUMBERS = ("+14155550100", "+14155550101", "+18005550199")
DEFAULT_SERVICE_SID = "MG1b2c3d4e5f60718293a4b5c6d7e8f90a"

TOLL_FREE_PREFIXES = {"+1800", "+1833", "+1844", "+1855", "+1866", "+1877", "+1888"}
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
# What the phones page (and ``POST /sandbox/outcomes``) can make of every later message to one
# phone, instead of the configured rates' draw: Twilio's final statuses with their error codes.
PHONE_OUTCOMES: dict[str, tuple[str, int | None, str]] = {
    "delivered": ("delivered", None, "Delivered"),
    "undelivered-30003": ("undelivered", 30003, "Undelivered 30003: unreachable handset"),
    "undelivered-30005": ("undelivered", 30005, "Undelivered 30005: unknown number"),
    "undelivered-30006": ("undelivered", 30006, "Undelivered 30006: landline"),
    "undelivered-30007": ("undelivered", 30007, "Undelivered 30007: carrier filtering"),
    "failed-30034": ("failed", 30034, "Failed 30034: unregistered A2P 10DLC number"),
}
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def sid(prefix: str, seed: str | None = None) -> str:
    digest = hashlib.md5(seed.encode()).hexdigest() if seed else uuid.uuid4().hex  # noqa: S324
    return prefix + digest


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True).replace("GMT", "+0000")


def segments(body: str) -> int:
    """How many SMS segments Twilio bills for ``body`` (GSM-7 or UCS-2)."""
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in body):
        length = sum(2 if ch in GSM7_EXTENDED else 1 for ch in body)
        return 1 if length <= 160 else -(-length // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


@dataclass
class Number:
    phone_number: str
    sms: bool = True
    sms_url: str = ""
    sms_method: str = "POST"

    @property
    def sid(self) -> str:
        return sid("PN", self.phone_number)

    @property
    def toll_free(self) -> bool:
        return self.phone_number.startswith(
            ("+1800", "+1833", "+1844", "+1855", "+1866", "+1877", "+1888")
        )


@dataclass
class Service:
    sid: str
    name: str
    registered: bool
    numbers: list[str]


@dataclass
class Message:
    sid: str
    to: str
    from_: str
    body: str
    media_url: str
    status: str
    status_callback: str
    messaging_service_sid: str
    created: datetime
    direction: str = "outbound-api"
    error_code: int | None = None
    sent: datetime | None = None
    updated: datetime | None = None


@dataclass
class Options:
    """The command's flags: how this Twilio behaves."""

    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    numbers: tuple[str, ...] = DEFAULT_NUMBERS
    latency_ms: int = 0
    callback_delay_ms: int = 200
    undelivered_rate: float = 0.0
    failed_rate: float = 0.0
    # Shares of all creates, drawn once per create (they add up to at most 1): a 429 creates
    # nothing; a 500 is an unknown outcome, the message created first in
    # ``http_500_created_rate`` of them; a slow create is stored at once and answered only after
    # ``slow_ms``, past the caller's read timeout.
    http_429_rate: float = 0.0
    http_500_rate: float = 0.0
    http_500_created_rate: float = 1.0
    slow_rate: float = 0.0
    slow_ms: int = 15_000
    shuffle_callbacks: bool = False
    duplicate_callbacks: bool = False
    seed: int | None = None
    # Webhooks (status callbacks, inbound) in flight at once; the rest wait their turn in the
    # sandbox, as Twilio's queue, instead of piling onto a busy web server and timing out.
    callback_concurrency: int = 16
    # Status callbacks kept back until ``POST /sandbox/callbacks/release`` (late callbacks).
    hold_callbacks: bool = False
    # Twilio retries a webhook only as its connection overrides say (``#rc=``, ``#rp=``; by
    # default once, and only when it cannot connect): here a callback the web did not answer,
    # or answered 5xx, is posted again up to this many times, ``callback_retry_ms`` apart.
    callback_retries: int = 0
    callback_retry_ms: int = 1000


class TwilioError(Exception):
    """An error answer in Twilio's shape."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


@dataclass
class Account:
    options: Options
    numbers: dict[str, Number] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    # (sender, recipient) pairs where the recipient texted STOP to the sender.
    opted_out: set[tuple[str, str]] = field(default_factory=set)
    # Recipient → a key of PHONE_OUTCOMES: how every later message to it ends.
    phone_outcomes: dict[str, str] = field(default_factory=dict)
    creates_per_callback_url: Counter[str] = field(default_factory=Counter)
    callback_answers: Counter[str] = field(default_factory=Counter)
    callback_retried: int = 0  # status callbacks posted again (``callback_retries``)
    faults: Counter[str] = field(default_factory=Counter)  # creates gone wrong, by kind
    inbound_answers: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def create(cls, options: Options) -> Account:
        account = cls(options=options, rng=random.Random(options.seed))  # noqa: S311
        for number in options.numbers:
            account.numbers[number] = Number(phone_number=number)
        local = [n for n in options.numbers if not account.numbers[n].toll_free]
        if local:
            # The first local number is in a registered A2P 10DLC campaign; others are not, so
            # the product's 10DLC warning can be seen.
            account.services[DEFAULT_SERVICE_SID] = Service(
                sid=DEFAULT_SERVICE_SID, name="Sandbox campaign", registered=True, numbers=local[:1]
            )
        return account

    def check_auth(self, user: str, password: str) -> None:
        if user != self.options.account_sid or password != self.options.auth_token:
            raise TwilioError(401, 20003, "Authenticate")

    def service_of(self, number: str) -> Service | None:
        return next((s for s in self.services.values() if number in s.numbers), None)

    def create_message(self, params: dict[str, str], now: datetime) -> Message:
        """Validates like Twilio, in Twilio's order, and stores the message."""
        to = params.get("To", "")
        body = params.get("Body", "")
        media = params.get("MediaUrl", "")
        service_sid = params.get("MessagingServiceSid", "")
        sender = params.get("From", "")
        if not E164.match(to):
            raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not body and not media:
            raise TwilioError(400, 21602, "Message body is required.")
        if service_sid:
            service = self.services.get(service_sid)
            if service is None:
                raise TwilioError(400, 21705, "The Messaging Service Sid is invalid.")
            sender = sender or (service.numbers[0] if service.numbers else "")
        number = self.numbers.get(sender)
        if number is None or not number.sms:
            raise TwilioError(
                400,
                21606,
                f"The From phone number {sender} is not a valid, SMS-capable inbound phone "
                "number or short code for your account.",
            )
        if (sender, to) in self.opted_out:
            raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        message = Message(
            sid=sid("SM"),
            to=to,
            from_=sender,
            body=body,
            media_url=media,
            status="accepted" if service_sid and not params.get("From") else "queued",
            status_callback=params.get("StatusCallback", ""),
            messaging_service_sid=service_sid,
            created=now,
            updated=now,
        )
        self.messages[message.sid] = message
        if message.status_callback:
            self.creates_per_callback_url[message.status_callback] += 1
        return message

    def create_fault(self) -> str:
        """How this create goes wrong, if it does: one draw against the configured shares:
        ``429``, ``500-created``, ``500-not-created``, ``slow`` or ``""`` (it does not)."""
        options = self.options
        draw = self.rng.random()
        if draw < options.http_429_rate:
            fault = "429"
        elif draw < options.http_429_rate + options.http_500_rate:
            created = self.rng.random() < options.http_500_created_rate
            fault = "500-created" if created else "500-not-created"
        elif draw < options.http_429_rate + options.http_500_rate + options.slow_rate:
            fault = "slow"
        else:
            return ""
        self.faults[fault] += 1
        return fault

    def arrivals(self) -> dict[str, list[float]]:
        """Each recipient's outbound creates, as the epoch seconds (to the microsecond) of the
        moment each was stored: after the configured latency, as Twilio stamps ``date_created``.
        In order, so the first is when a message first reached the recipient's account and any
        further one is a repeat. For benchmarks that time something to its arrival here."""
        times: dict[str, list[float]] = {}
        for message in self.messages.values():
            if message.direction != "inbound":
                times.setdefault(message.to, []).append(message.created.timestamp())
        return {to: sorted(moments) for to, moments in times.items()}

    def outcome(self, to: str = "") -> tuple[str, int | None]:
        """The final status of a new message to ``to``: the phone's set outcome, else drawn
        from the configured rates."""
        if to in self.phone_outcomes:
            status, code, _label = PHONE_OUTCOMES[self.phone_outcomes[to]]
            return status, code
        draw = self.rng.random()
        if draw < self.options.failed_rate:
            return "failed", 30034
        if draw < self.options.failed_rate + self.options.undelivered_rate:
            return "undelivered", self.rng.choice((30003, 30007))
        return "delivered", None

    def set_outcome(self, phone: str, outcome: str) -> None:
        """Every later message to ``phone`` ends as ``outcome`` (a key of PHONE_OUTCOMES);
        ``random`` (or empty) goes back to the configured rates."""
        if outcome in ("", "random"):
            self.phone_outcomes.pop(phone, None)
            return
        if outcome not in PHONE_OUTCOMES:
            choices = ", ".join(["random", *PHONE_OUTCOMES])
            raise ValueError(f"Unknown outcome {outcome!r}: one of {choices}.")
        if not E164.match(phone):
            raise ValueError(f"{phone!r} is not a phone number in E.164 (+14155550123).")
        self.phone_outcomes[phone] = outcome

    def record_inbound(self, sender: str, recipient: str, body: str) -> str | None:
        """Twilio's default keyword handling; returns the OptOutType a keyword maps to."""
        word = body.strip().upper()
        if word in STOP_WORDS:
            self.opted_out.add((recipient, sender))
            return "STOP"
        if word in START_WORDS:
            self.opted_out.discard((recipient, sender))
            return "START"
        if word in HELP_WORDS:
            return "HELP"
        return None


def now_utc() -> datetime:
    return datetime.now(UTC)
