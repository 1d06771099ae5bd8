"""Twilio's Pricing API at the HTTP level: ``GET /v1/Messaging/Countries/{IsoCountry}``, with the
real-shaped body of tests/fixtures/twilio/messaging_country.json reshaped per case."""

from __future__ import annotations

from typing import Any

import responses

from tests import twilio_mocks as tw

PRICING = "https://pricing.twilio.com/v1"


def country_url(iso_country: str, base: str = PRICING) -> str:
    return f"{base}/Messaging/Countries/{iso_country}"


def country_body(
    iso_country: str = "US",
    name: str = "United States",
    prices: dict[str, dict[str, str]] | None = None,
    *,
    price_unit: str = "USD",
) -> dict[str, Any]:
    """The fixture (US: local 0.0079 / 0.0083 / 0.0081 by carrier, toll free and shortcode
    0.0083), or another country with ``prices``: {carrier: {number_type: current_price}}."""
    body = tw.load("messaging_country")
    body.update(
        iso_country=iso_country, country=name, price_unit=price_unit, url=country_url(iso_country)
    )
    if prices is not None:
        body["outbound_sms_prices"] = [
            {
                "carrier": carrier,
                "mcc": "234",
                "mnc": f"{position:02d}",
                "prices": [
                    {"base_price": price, "current_price": price, "number_type": number_type}
                    for number_type, price in by_type.items()
                ],
            }
            for position, (carrier, by_type) in enumerate(prices.items(), start=10)
        ]
        body["inbound_sms_prices"] = [
            {"base_price": "0.0075", "current_price": "0.0075", "number_type": "mobile"}
        ]
    return body


GB = {
    "EE": {"mobile": "0.0463"},
    "Vodafone": {"mobile": "0.0470", "shortcode": "0.0520"},
    "O2": {"mobile": "0.0455"},
}


def country(
    rsps: responses.RequestsMock, body: dict[str, Any], *, base: str = PRICING
) -> responses.BaseResponse:
    return rsps.get(country_url(body["iso_country"], base), json=body)


def unknown_country(rsps: responses.RequestsMock, iso_country: str) -> None:
    message = f"The requested resource /Messaging/Countries/{iso_country} was not found"
    rsps.get(country_url(iso_country), json=tw.error(20404, 404, message), status=404)
