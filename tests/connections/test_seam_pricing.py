"""The seam's Pricing API call: ``GET /v1/Messaging/Countries/{IsoCountry}`` on
``TWILIO_PRICING_BASE_URL``, read into a record of Decimals, a 404 as None."""

import base64
from decimal import Decimal

import pytest
import requests
import responses

from connections.crypto import Secret
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import ErrorKind, TwilioError
from connections.twilio_prices import MessagingPrices, OutboundSmsPrice
from tests import twilio_mocks as tw
from tests.connections import pricing_mocks as pm


def gateway() -> TwilioGateway:
    return TwilioGateway(tw.ACCOUNT_SID, Secret(tw.AUTH_TOKEN))


@responses.activate
def test_it_fetches_a_countrys_prices_with_basic_auth_at_twilios_pricing_host():
    pm.country(responses.mock, pm.country_body())

    prices = gateway().fetch_messaging_prices("US")

    [call] = responses.calls
    assert call.request.method == "GET"
    assert call.request.url == "https://pricing.twilio.com/v1/Messaging/Countries/US"
    expected = base64.b64encode(f"{tw.ACCOUNT_SID}:{tw.AUTH_TOKEN}".encode()).decode()
    assert call.request.headers["Authorization"] == f"Basic {expected}"
    assert prices is not None
    assert (prices.iso_country, prices.country, prices.price_unit) == (
        "US",
        "United States",
        "USD",
    )
    assert prices.outbound_sms[:3] == (
        OutboundSmsPrice(
            "AT&T Wireless", "310", "410", "local", Decimal("0.0083"), Decimal("0.0079")
        ),
        OutboundSmsPrice(
            "AT&T Wireless", "310", "410", "toll free", Decimal("0.0083"), Decimal("0.0083")
        ),
        OutboundSmsPrice(
            "AT&T Wireless", "310", "410", "shortcode", Decimal("0.0083"), Decimal("0.0083")
        ),
    )
    assert len(prices.outbound_sms) == 9
    assert {p.carrier for p in prices.outbound_sms} == {
        "AT&T Wireless",
        "T-Mobile USA, Inc.",
        "Verizon Wireless",
    }


@responses.activate
def test_it_calls_the_configured_pricing_base_url(settings):
    settings.TWILIO_PRICING_BASE_URL = "http://127.0.0.1:8012"
    pm.country(responses.mock, pm.country_body(), base="http://127.0.0.1:8012/v1")

    prices = gateway().fetch_messaging_prices("US")

    assert prices is not None
    assert responses.calls[0].request.url == "http://127.0.0.1:8012/v1/Messaging/Countries/US"


@responses.activate
def test_it_ignores_twilio_edge_and_region_for_pricing_too(monkeypatch):
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    pm.country(responses.mock, pm.country_body())

    gateway().fetch_messaging_prices("US")

    assert responses.calls[0].request.url == pm.country_url("US")


@responses.activate
def test_prices_given_as_json_numbers_are_read_as_the_same_decimals():
    body = pm.country_body()
    body["outbound_sms_prices"] = [
        {
            "carrier": "Bell",
            "mcc": "302",
            "mnc": "610",
            "prices": [{"base_price": 0.0083, "current_price": 0.0079, "number_type": "local"}],
        }
    ]
    pm.country(responses.mock, body)

    prices = gateway().fetch_messaging_prices("US")

    assert prices is not None
    [price] = prices.outbound_sms
    assert (price.base_price, price.current_price) == (Decimal("0.0083"), Decimal("0.0079"))


@responses.activate
def test_an_entry_without_a_current_price_or_number_type_is_left_out():
    body = pm.country_body()
    body["outbound_sms_prices"] = [
        {
            "carrier": "Bell",
            "mcc": "302",
            "mnc": "610",
            "prices": [
                {"base_price": "0.0083", "current_price": None, "number_type": "local"},
                {"base_price": "0.0083", "current_price": "0.0083"},
                {"current_price": "0.0090", "number_type": "toll free"},
            ],
        },
        {"carrier": "Rogers", "mcc": "302", "mnc": "720", "prices": None},
    ]
    pm.country(responses.mock, body)

    prices = gateway().fetch_messaging_prices("US")

    assert prices == MessagingPrices(
        iso_country="US",
        country="United States",
        price_unit="USD",
        outbound_sms=(
            OutboundSmsPrice("Bell", "302", "610", "toll free", None, Decimal("0.0090")),
        ),
    )


@responses.activate
def test_a_country_twilio_does_not_price_is_none_not_an_error():
    pm.unknown_country(responses.mock, "XK")

    assert gateway().fetch_messaging_prices("XK") is None
    assert responses.calls[0].request.url == pm.country_url("XK")


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (401, tw.error(20003, 401, "Authenticate"), ErrorKind.PERMANENT, 20003),
        (429, tw.error(20429, 429, "Too Many Requests"), ErrorKind.RETRY, 20429),
        (503, {"message": "Service Unavailable", "status": 503}, ErrorKind.UNKNOWN, None),
    ],
)
@responses.activate
def test_other_error_answers_raise_the_seams_error(status, body, kind, code):
    responses.get(pm.country_url("US"), json=body, status=status)

    with pytest.raises(TwilioError) as excinfo:
        gateway().fetch_messaging_prices("US")

    assert (excinfo.value.kind, excinfo.value.code, excinfo.value.status) == (kind, code, status)


@responses.activate
def test_an_unreachable_pricing_api_is_a_retry():
    responses.get(pm.country_url("US"), body=requests.ConnectTimeout("connect timed out"))

    with pytest.raises(TwilioError) as excinfo:
        gateway().fetch_messaging_prices("US")

    assert excinfo.value.kind == ErrorKind.RETRY


@responses.activate
def test_it_logs_one_line_naming_the_country_without_secrets(caplog):
    caplog.set_level("INFO")
    pm.country(responses.mock, pm.country_body())
    pm.unknown_country(responses.mock, "XK")

    gateway().fetch_messaging_prices("US")
    gateway().fetch_messaging_prices("XK")

    lines = [r.getMessage() for r in caplog.records if r.name == "connections.twilio_api"]
    assert [line.split(" account=")[0] for line in lines] == [
        "twilio messaging prices fetch US ok",
        "twilio messaging prices fetch XK failed",
    ]
    assert all(tw.AUTH_TOKEN not in line for line in lines)
