"""What texting costs, from Twilio's Pricing API: the price of one outbound segment from an
organization's sender to a country (``message_price``), and the cost of a send of so many
segments per country (``cost_estimate``), for the preflight before a launch.

Prices are cached for a day per account and country: they change a few times a year, and a
preflight must not make one Twilio call per country each time a page is opened.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache as memoize

import phonenumbers
from django.core.cache import cache
from phonenumbers import NumberParseException

from connections.models import SenderType, TwilioCredentials
from connections.selectors import twilio_connection, twilio_credentials
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import TwilioError
from connections.twilio_prices import MessagingPrices
from tenants.models import Organization

CACHE_SECONDS = 24 * 60 * 60
ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Cached in place of prices when Twilio has none for a country (a 404), so that is not asked
# again all day either.
NO_PRICES = "no-prices"

# Twilio's number_type words for each kind of sender, best match first. A long code is
# "local" in the US and Canada and "mobile" in most other countries' price lists.
NUMBER_TYPES: dict[str, tuple[str, ...]] = {
    SenderType.LOCAL: ("local", "mobile"),
    SenderType.TOLL_FREE: ("toll free",),
    SenderType.SHORT_CODE: ("shortcode",),
    # A Messaging Service picks the sender from its pool for each message (long codes,
    # toll-free numbers, short codes, per country), which is not known in advance: any number
    # type's price may apply, so the estimate takes the highest of them (empty: every type).
    SenderType.MESSAGING_SERVICE: (),
}


@dataclass(frozen=True)
class SegmentPrice:
    """What one outbound segment from the sender costs in a country."""

    iso_country: str
    currency: str  # ISO 4217: USD
    number_type: str  # the Twilio number type priced: local, mobile, toll free, shortcode
    amount: Decimal  # the highest current price of any carrier: an estimate never understates


@dataclass(frozen=True)
class CostLine:
    country: str
    segments: int
    unit_price: Decimal
    subtotal: Decimal  # unit_price times segments, exact (round only to show it)


@dataclass(frozen=True)
class UnpricedCountry:
    """Segments left out of the estimate: Twilio has no price for this country and sender
    (or the country is not one), or, when the estimate is unavailable, any country."""

    country: str  # as given (upper-cased), "" for numbers whose country is unknown
    segments: int


@dataclass(frozen=True)
class CostEstimate:
    """Every segment asked about is in exactly one of ``lines`` and ``unpriced``."""

    currency: str  # "" when nothing was priced
    total: Decimal
    lines: tuple[CostLine, ...]
    unpriced: tuple[UnpricedCountry, ...]
    # Why there is no estimate at all (no connection, Twilio unreachable), for people; "" when
    # there is one. Then every country is in ``unpriced``.
    unavailable: str = ""

    @property
    def available(self) -> bool:
        return not self.unavailable

    @property
    def unpriced_segments(self) -> int:
        return sum(country.segments for country in self.unpriced)


def country_of(phone: str) -> str:
    """The country (ISO 3166-1 region code: US, CA, GB, GG…) of an E.164 number, or "" when
    the number tells none (malformed, unassigned, or non-geographic such as +800)."""
    try:
        parsed = phonenumbers.parse(phone)
    except NumberParseException:
        return ""
    region = phonenumbers.region_code_for_number(parsed)
    return region if region and ISO_COUNTRY.match(region) else ""


def _cache_key(account_sid: str, iso_country: str) -> str:
    # The account SID is no secret (the pages, the API and the logs show it) and the token
    # never comes near a key. v1: the shape of the cached MessagingPrices.
    return f"twilio-prices:v1:{account_sid}:{iso_country}"


def _cached(value: object) -> MessagingPrices | None:
    return value if isinstance(value, MessagingPrices) else None


def _fetch(
    gateway: Callable[[], TwilioGateway], account_sid: str, iso_country: str
) -> MessagingPrices | None:
    """Asks Twilio and caches the answer, "no prices" included; a TwilioError is not cached."""
    prices = gateway().fetch_messaging_prices(iso_country)
    cache.set(_cache_key(account_sid, iso_country), prices or NO_PRICES, CACHE_SECONDS)
    return prices


def _gateway_of(credentials: TwilioCredentials) -> Callable[[], TwilioGateway]:
    """One gateway (one decryption of the token) for all of a call's misses, made only if there
    is one."""
    return memoize(lambda: TwilioGateway(credentials.account_sid, credentials.auth_token()))


def _segment_price(prices: MessagingPrices, sender_type: str) -> SegmentPrice | None:
    wanted = NUMBER_TYPES.get(sender_type, ())
    for number_type in wanted:
        found = [p.current_price for p in prices.outbound_sms if p.number_type == number_type]
        if found:
            return SegmentPrice(prices.iso_country, prices.price_unit, number_type, max(found))
    if wanted or not prices.outbound_sms:
        return None
    top = max(prices.outbound_sms, key=lambda p: p.current_price)
    return SegmentPrice(prices.iso_country, prices.price_unit, top.number_type, top.current_price)


def message_price(*, credentials: TwilioCredentials, iso_country: str) -> SegmentPrice | None:
    """The price of one outbound segment from these credentials' sender to ``iso_country``
    (a region code such as "US", see ``country_of``), or None when Twilio has none for that
    country and type of sender. Cached for a day; raises ``TwilioError`` when Twilio cannot
    answer."""
    iso = iso_country.upper()
    if not ISO_COUNTRY.match(iso):
        return None
    found = cache.get(_cache_key(credentials.account_sid, iso))
    if found is None:
        prices = _fetch(_gateway_of(credentials), credentials.account_sid, iso)
    else:
        prices = _cached(found)
    return _segment_price(prices, credentials.sender_type) if prices else None


def _unavailable(segments: Mapping[str, int], reason: str) -> CostEstimate:
    unpriced = tuple(UnpricedCountry(country, n) for country, n in sorted(segments.items()))
    return CostEstimate("", Decimal(0), (), unpriced, unavailable=reason)


def _segments(segments_by_country: Mapping[str, int]) -> dict[str, int]:
    """Upper-cased countries with their segments added up; countries without any left out."""
    merged: dict[str, int] = {}
    for country, segments in segments_by_country.items():
        if segments < 0:
            raise ValueError(f"Negative segments for {country!r}: {segments}")
        if segments:
            key = (country or "").strip().upper()
            merged[key] = merged.get(key, 0) + segments
    return merged


def cost_estimate(
    *, organization: Organization, segments_by_country: Mapping[str, int]
) -> CostEstimate:
    """What sending ``segments_by_country`` ({"US": 1200, "CA": 40}) from the organization's
    Twilio sender would cost. Never raises for Twilio: a country without a price is left out
    (``unpriced``), and no connection or Twilio failing gives an estimate that says it is
    unavailable."""
    segments = _segments(segments_by_country)
    credentials = twilio_credentials(twilio_connection(organization))
    if credentials is None:
        return _unavailable(segments, "Connect a Twilio account to estimate the cost.")
    countries = sorted(c for c in segments if ISO_COUNTRY.match(c))
    keys = {country: _cache_key(credentials.account_sid, country) for country in countries}
    cached = cache.get_many(list(keys.values()))
    gateway = _gateway_of(credentials)
    lines: list[CostLine] = []
    priced: set[str] = set()
    currency = ""
    for country in countries:
        try:
            prices = (
                _cached(cached[keys[country]])
                if keys[country] in cached
                else _fetch(gateway, credentials.account_sid, country)
            )
        except TwilioError as error:
            # One answer is enough: Twilio failing for one country fails for the next too,
            # and each try could take the whole timeout.
            return _unavailable(segments, f"Twilio's prices could not be fetched: {error.message}")
        price = _segment_price(prices, credentials.sender_type) if prices else None
        # Twilio bills an account in one currency; a price in another would not add up.
        if price is None or (currency and price.currency != currency):
            continue
        currency = price.currency
        count = segments[country]
        lines.append(CostLine(country, count, price.amount, price.amount * count))
        priced.add(country)
    unpriced = tuple(
        UnpricedCountry(country, count)
        for country, count in sorted(segments.items())
        if country not in priced
    )
    total = sum((line.subtotal for line in lines), Decimal(0))
    return CostEstimate(currency, total, tuple(lines), unpriced)
