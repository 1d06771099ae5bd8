"""Twilio's Pricing API for messaging: ``GET /v1/Messaging/Countries/{IsoCountry}``.

A fixed price list in USD for a few countries, shaped like Twilio's answer: the price of an
outbound segment per carrier (MCC/MNC) and type of sending number, and of an inbound message
per type of receiving number. The figures are realistic, not Twilio's current prices. Any other
country is a 404, as Twilio answers for a country it does not price.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from sandbox.state import TwilioError
from sandbox.web import twilio_json

# Twilio's number_type words.
LOCAL, MOBILE, TOLL_FREE, SHORT_CODE = "local", "mobile", "toll free", "shortcode"


@dataclass(frozen=True)
class Carrier:
    name: str
    mcc: str
    mnc: str
    prices: dict[str, str]  # number type → price of one outbound segment


@dataclass(frozen=True)
class Country:
    name: str
    carriers: tuple[Carrier, ...]
    inbound: dict[str, str] = field(default_factory=dict)  # number type → price


def _nanp(price: str, short_code: str) -> dict[str, str]:
    return {LOCAL: price, TOLL_FREE: price, SHORT_CODE: short_code}


MOBILE_INBOUND = {MOBILE: "0.0075"}

COUNTRIES: dict[str, Country] = {
    "US": Country(
        "United States",
        (
            Carrier("AT&T Wireless", "310", "410", _nanp("0.0083", "0.0083")),
            Carrier("T-Mobile USA, Inc.", "310", "260", _nanp("0.0083", "0.0083")),
            Carrier("Verizon Wireless", "311", "480", _nanp("0.0083", "0.0083")),
            Carrier("US Cellular", "311", "580", _nanp("0.0083", "0.0083")),
        ),
        _nanp("0.0083", "0.0083"),
    ),
    "CA": Country(
        "Canada",
        (
            Carrier("Bell Mobility", "302", "610", _nanp("0.0083", "0.0100")),
            Carrier("Rogers Wireless", "302", "720", _nanp("0.0083", "0.0100")),
            Carrier("Telus Mobility", "302", "220", _nanp("0.0083", "0.0100")),
        ),
        _nanp("0.0083", "0.0083"),
    ),
    "GB": Country(
        "United Kingdom",
        (
            Carrier("EE", "234", "30", {MOBILE: "0.0463", SHORT_CODE: "0.0524"}),
            Carrier("Vodafone", "234", "15", {MOBILE: "0.0463", SHORT_CODE: "0.0524"}),
            Carrier("O2", "234", "10", {MOBILE: "0.0463", SHORT_CODE: "0.0524"}),
            Carrier("Three", "234", "20", {MOBILE: "0.0475", SHORT_CODE: "0.0524"}),
        ),
        MOBILE_INBOUND,
    ),
    "DE": Country(
        "Germany",
        (
            Carrier("Telekom", "262", "01", {MOBILE: "0.0895"}),
            Carrier("Vodafone", "262", "02", {MOBILE: "0.0895"}),
            Carrier("O2 (Telefonica)", "262", "03", {MOBILE: "0.0950"}),
        ),
        MOBILE_INBOUND,
    ),
    "FR": Country(
        "France",
        (
            Carrier("Orange", "208", "01", {MOBILE: "0.0841"}),
            Carrier("SFR", "208", "10", {MOBILE: "0.0841"}),
            Carrier("Bouygues Telecom", "208", "20", {MOBILE: "0.0841"}),
            Carrier("Free Mobile", "208", "15", {MOBILE: "0.0870"}),
        ),
        MOBILE_INBOUND,
    ),
    "ES": Country(
        "Spain",
        (
            Carrier("Movistar", "214", "07", {MOBILE: "0.0834"}),
            Carrier("Vodafone", "214", "01", {MOBILE: "0.0834"}),
            Carrier("Orange", "214", "03", {MOBILE: "0.0834"}),
        ),
        MOBILE_INBOUND,
    ),
    "AU": Country(
        "Australia",
        (
            Carrier("Telstra", "505", "01", {MOBILE: "0.0515", SHORT_CODE: "0.0600"}),
            Carrier("Optus", "505", "02", {MOBILE: "0.0515", SHORT_CODE: "0.0600"}),
            Carrier("Vodafone", "505", "03", {MOBILE: "0.0515", SHORT_CODE: "0.0600"}),
        ),
        MOBILE_INBOUND,
    ),
    "MX": Country(
        "Mexico",
        (
            Carrier("Telcel", "334", "020", {MOBILE: "0.0490", LOCAL: "0.0490"}),
            Carrier("AT&T Mexico", "334", "050", {MOBILE: "0.0490", LOCAL: "0.0490"}),
            Carrier("Movistar", "334", "030", {MOBILE: "0.0520", LOCAL: "0.0520"}),
        ),
        {MOBILE: "0.0075", LOCAL: "0.0075"},
    ),
    "BR": Country(
        "Brazil",
        (
            Carrier("Vivo", "724", "06", {MOBILE: "0.0544"}),
            Carrier("Claro", "724", "05", {MOBILE: "0.0544"}),
            Carrier("TIM", "724", "04", {MOBILE: "0.0544"}),
        ),
        MOBILE_INBOUND,
    ),
    # Twilio's Indian numbers do not receive SMS: no inbound prices.
    "IN": Country(
        "India",
        (
            Carrier("Airtel", "404", "10", {MOBILE: "0.0832"}),
            Carrier("Reliance Jio", "405", "857", {MOBILE: "0.0832"}),
            Carrier("Vodafone Idea", "404", "20", {MOBILE: "0.0832"}),
        ),
    ),
}


def _prices(by_type: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"base_price": price, "current_price": price, "number_type": number_type}
        for number_type, price in by_type.items()
    ]


async def messaging_country(request: web.Request) -> web.Response:
    iso_country = request.match_info["iso_country"]
    country = COUNTRIES.get(iso_country)
    if country is None:
        raise TwilioError(
            404, 20404, f"The requested resource /Messaging/Countries/{iso_country} was not found"
        )
    return twilio_json(
        {
            "country": country.name,
            "inbound_sms_prices": _prices(country.inbound),
            "iso_country": iso_country,
            "outbound_sms_prices": [
                {
                    "carrier": carrier.name,
                    "mcc": carrier.mcc,
                    "mnc": carrier.mnc,
                    "prices": _prices(carrier.prices),
                }
                for carrier in country.carriers
            ],
            "price_unit": "USD",
            "url": f"{request.scheme}://{request.host}/v1/Messaging/Countries/{iso_country}",
        }
    )
