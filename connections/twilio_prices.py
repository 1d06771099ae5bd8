"""Twilio's messaging prices as the seam answers them (``TwilioGateway.fetch_messaging_prices``):
per country, per carrier and number type, amounts as Decimals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class OutboundSmsPrice:
    """What Twilio charges for one outbound segment to one carrier, sent from one type of
    number."""

    carrier: str
    mcc: str
    mnc: str
    number_type: str  # Twilio's words: local, mobile, toll free, shortcode
    base_price: Decimal | None  # the list price
    current_price: Decimal  # what this account pays: the list price less its discounts


@dataclass(frozen=True)
class MessagingPrices:
    """Twilio's SMS prices for this account to one country (``/v1/Messaging/Countries/XX``)."""

    iso_country: str
    country: str
    price_unit: str  # the currency, ISO 4217: USD
    outbound_sms: tuple[OutboundSmsPrice, ...]


def _price(value: Any) -> Decimal | None:
    # Twilio's spec says number and its answers carry strings ("0.0079"); either way through
    # str, so a float never lends the Decimal its binary digits.
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def outbound_sms_prices(entries: Any) -> tuple[OutboundSmsPrice, ...]:
    found: list[OutboundSmsPrice] = []
    for entry in entries or ():
        for price in entry.get("prices") or ():
            current = _price(price.get("current_price"))
            if current is None or not price.get("number_type"):
                continue
            found.append(
                OutboundSmsPrice(
                    carrier=entry.get("carrier") or "",
                    mcc=entry.get("mcc") or "",
                    mnc=entry.get("mnc") or "",
                    number_type=price["number_type"],
                    base_price=_price(price.get("base_price")),
                    current_price=current,
                )
            )
    return tuple(found)
