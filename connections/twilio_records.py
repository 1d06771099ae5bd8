"""What the Twilio seam (``connections.twilio_api``) hands back: small typed records read off
Twilio's objects, never the objects themselves (an account fetch carries the token)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Account:
    sid: str
    name: str
    status: str  # active, suspended, closed
    type: str  # Trial, Full


@dataclass(frozen=True)
class IncomingNumber:
    sid: str
    phone_number: str
    sms: bool
    sms_url: str


@dataclass(frozen=True)
class ShortCode:
    sid: str
    short_code: str
    sms_url: str


@dataclass(frozen=True)
class MessagingService:
    sid: str
    name: str
    us_a2p_registered: bool


@dataclass(frozen=True)
class ServiceNumber:
    sid: str
    phone_number: str
    country_code: str


@dataclass(frozen=True)
class TollFreeVerification:
    sid: str
    status: str  # PENDING_REVIEW, IN_REVIEW, TWILIO_APPROVED, TWILIO_REJECTED


@dataclass(frozen=True)
class CreatedMessage:
    sid: str
    status: str
    num_segments: int | None


@dataclass(frozen=True)
class MessageRecord:
    """A message as Twilio knows it, for reconciliation and status fetches."""

    sid: str
    to: str
    from_: str
    messaging_service_sid: str
    body: str
    status: str
    error_code: int | None
    error_message: str
    date_created: datetime | None


@dataclass(frozen=True)
class UsageRecord:
    """What one usage category cost the account on one day (Twilio's days are UTC)."""

    day: date
    category: str  # Twilio's usage category: sms, mms
    count: int  # messages
    usage: int  # what is billed: segments for SMS
    price: Decimal  # in price_unit; negative for a credit, 0 when Twilio gives none
    price_unit: str  # ISO 4217, upper-cased: USD


def _whole(value: Any) -> int:
    # Twilio sends counts as strings ("12"); through Decimal, so "12.0" reads too.
    return int(Decimal(str(value))) if value not in (None, "") else 0


def _amount(value: Any) -> Decimal:
    """Twilio's price, which the library has made a Decimal of (or left "" or None as is)."""
    if value in (None, ""):
        return Decimal(0)
    amount = Decimal(str(value))
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -12:
        # A JSON number rather than Twilio's string: the library's Decimal holds the float's
        # binary digits (0.0079 → 0.00790000000000000001…); no price has that many places.
        amount = Decimal(str(float(amount)))
    return amount


def usage_record(record: Any) -> UsageRecord:
    if not isinstance(record.start_date, date):
        raise ValueError("a usage record without a start_date")
    return UsageRecord(
        day=record.start_date,
        category=record.category or "",
        count=_whole(record.count),
        usage=_whole(record.usage),
        price=_amount(record.price),
        price_unit=(record.price_unit or "").upper(),
    )


def message_record(message: Any) -> MessageRecord:
    code = message.error_code
    return MessageRecord(
        sid=message.sid,
        to=message.to or "",
        from_=message.from_ or "",
        messaging_service_sid=message.messaging_service_sid or "",
        body=message.body or "",
        status=message.status or "",
        error_code=int(code) if code not in (None, "") else None,
        error_message=message.error_message or "",
        date_created=message.date_created,
    )
