"""The sandbox's Pricing API: messaging prices per country in Twilio's shape, Basic auth, and
Twilio's 404 for a country it does not price; read by the official client, the seam and the
cost estimate over real HTTP."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from connections import twilio_api
from connections.crypto import Secret
from connections.services.pricing import CostLine, UnpricedCountry, cost_estimate
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tests.sandbox.conftest import LOCAL, OTHER_TOKEN, Sandbox, assert_twilio_error
from tests.sandbox.test_connect_flow import connect

COUNTRIES = ("US", "CA", "GB", "DE", "FR", "ES", "AU", "MX", "BR", "IN")
NUMBER_TYPES = {"local", "mobile", "toll free", "shortcode"}


def prices(sandbox: Sandbox, iso_country: str, **kwargs) -> dict:
    response = sandbox.get(f"/v1/Messaging/Countries/{iso_country}", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict = response.json()
    return body


@pytest.mark.parametrize("iso_country", COUNTRIES)
def test_it_prices_messages_to_each_country_in_twilios_shape(sandbox, iso_country):
    body = prices(sandbox, iso_country)

    assert set(body) == {
        "country",
        "inbound_sms_prices",
        "iso_country",
        "outbound_sms_prices",
        "price_unit",
        "url",
    }
    assert body["iso_country"] == iso_country
    assert body["country"]
    assert body["price_unit"] == "USD"
    assert body["url"] == f"{sandbox.url}/v1/Messaging/Countries/{iso_country}"
    assert len(body["outbound_sms_prices"]) >= 3
    for carrier in body["outbound_sms_prices"]:
        assert set(carrier) == {"carrier", "mcc", "mnc", "prices"}
        assert carrier["carrier"]
        assert re.fullmatch(r"[0-9]{3}", carrier["mcc"])
        assert re.fullmatch(r"[0-9]{2,3}", carrier["mnc"])
        assert carrier["prices"]
        for price in [*carrier["prices"], *body["inbound_sms_prices"]]:
            assert set(price) == {"base_price", "current_price", "number_type"}
            assert price["number_type"] in NUMBER_TYPES
            assert Decimal("0.001") < Decimal(price["current_price"]) < Decimal("0.2")
            assert Decimal(price["current_price"]) <= Decimal(price["base_price"])


def test_us_and_canadian_prices_are_by_number_type_and_others_for_mobile_numbers(sandbox):
    def types(body: dict) -> set[str]:
        return {p["number_type"] for c in body["outbound_sms_prices"] for p in c["prices"]}

    assert types(prices(sandbox, "US")) == {"local", "toll free", "shortcode"}
    assert types(prices(sandbox, "CA")) == {"local", "toll free", "shortcode"}
    assert types(prices(sandbox, "DE")) == {"mobile"}
    assert types(prices(sandbox, "GB")) == {"mobile", "shortcode"}
    assert prices(sandbox, "IN")["inbound_sms_prices"] == []


@pytest.mark.parametrize("iso_country", ["XK", "ZZ", "us", "USA"])
def test_it_answers_twilios_404_for_a_country_it_does_not_price(sandbox, iso_country):
    response = sandbox.get(f"/v1/Messaging/Countries/{iso_country}")

    body = assert_twilio_error(response, 404, 20404)
    assert body["message"] == (
        f"The requested resource /Messaging/Countries/{iso_country} was not found"
    )


@pytest.mark.parametrize(
    "auth", [(DEFAULT_ACCOUNT_SID, OTHER_TOKEN), None], ids=["wrong-token", "no-auth"]
)
def test_it_refuses_bad_credentials_with_20003(sandbox, auth):
    response = sandbox.get("/v1/Messaging/Countries/US", auth=auth)

    assert assert_twilio_error(response, 401, 20003)["message"] == "Authenticate"


def test_the_official_client_reads_it(sandbox):
    client = Client(
        DEFAULT_ACCOUNT_SID,
        DEFAULT_AUTH_TOKEN,
        environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
    )
    client.pricing.base_url = sandbox.url

    country = client.pricing.v1.messaging.countries("GB").fetch()
    with pytest.raises(TwilioRestException) as excinfo:
        client.pricing.v1.messaging.countries("XK").fetch()

    assert country.iso_country == "GB"
    assert country.price_unit == "USD"
    assert country.outbound_sms_prices[0]["prices"][0]["number_type"] == "mobile"
    assert (excinfo.value.status, excinfo.value.code) == (404, 20404)


@pytest.fixture
def hub(settings, monkeypatch, sandbox: Sandbox) -> Sandbox:
    """Every base URL of the seam pointed at the sandbox, with a connection pool of its own."""
    monkeypatch.setattr(twilio_api, "_local", threading.local())
    settings.TWILIO_API_BASE_URL = sandbox.url
    settings.TWILIO_MESSAGING_BASE_URL = sandbox.url
    settings.TWILIO_PRICING_BASE_URL = sandbox.url
    settings.PUBLIC_BASE_URL = "https://hub.example.com"
    return sandbox


def test_the_seam_reads_it(hub):
    gateway = twilio_api.TwilioGateway(DEFAULT_ACCOUNT_SID, Secret(DEFAULT_AUTH_TOKEN))

    us = gateway.fetch_messaging_prices("US")

    assert us is not None
    assert (us.iso_country, us.country, us.price_unit) == ("US", "United States", "USD")
    assert {p.number_type for p in us.outbound_sms} == {"local", "toll free", "shortcode"}
    assert {p.current_price for p in us.outbound_sms} == {Decimal("0.0083")}
    assert gateway.fetch_messaging_prices("XK") is None


@pytest.mark.django_db
def test_a_connected_organization_gets_a_cost_estimate_from_it(personas, hub):
    connect(personas, LOCAL)

    estimate = cost_estimate(
        organization=personas.org, segments_by_country={"US": 1000, "DE": 20, "XK": 3}
    )

    assert estimate.available
    assert estimate.currency == "USD"
    assert estimate.lines == (
        CostLine("DE", 20, Decimal("0.0950"), Decimal("1.9000")),
        CostLine("US", 1000, Decimal("0.0083"), Decimal("8.3000")),
    )
    assert estimate.total == Decimal("10.2000")
    assert estimate.unpriced == (UnpricedCountry("XK", 3),)
