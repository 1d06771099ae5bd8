"""Cost estimates: the price of a segment for the sender's number type, totals per country in
Decimal, a day's cache per account and country, and an estimate that never raises for Twilio."""

import base64
from decimal import Decimal

import pytest
import requests
import responses
from django.core.cache import cache

from connections.models import SenderType, TwilioCredentials
from connections.services import pricing
from connections.services.pricing import (
    CostEstimate,
    CostLine,
    SegmentPrice,
    UnpricedCountry,
    cost_estimate,
    country_of,
    message_price,
)
from tests import twilio_mocks as tw
from tests.connections import helpers
from tests.connections import pricing_mocks as pm

pytestmark = pytest.mark.django_db

OTHER_SID = "AC" + "5e" * 16
OTHER_TOKEN = "7a" * 16
# US prices that differ by number type and by carrier (the highest of each type: local 0.0081,
# toll free 0.0090).
US = {
    "AT&T Wireless": {"local": "0.0079", "toll free": "0.0083", "shortcode": "0.0100"},
    "Verizon Wireless": {"local": "0.0081", "toll free": "0.0090", "shortcode": "0.0100"},
}


def connected(personas, sender_type: str = SenderType.LOCAL) -> TwilioCredentials:
    helpers.connect(personas)
    credentials = helpers.credentials_of(personas.org)
    if sender_type != credentials.sender_type:
        TwilioCredentials.objects.filter(pk=credentials.pk).update(sender_type=sender_type)
        credentials.refresh_from_db()
    return credentials


def auth_of(call) -> str:
    return base64.b64decode(call.request.headers["Authorization"][6:]).decode()


class CacheSpy:
    """The cache as the pricing service uses it, recording what it stores."""

    def __init__(self) -> None:
        self.stored: list[tuple[str, object, int]] = []

    def set(self, key: str, value: object, timeout: int) -> None:
        self.stored.append((key, value, timeout))
        cache.set(key, value, timeout)

    def get(self, key: str) -> object:
        return cache.get(key)

    def get_many(self, keys: list[str]) -> dict[str, object]:
        return cache.get_many(keys)


# --- The country of a number -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "country"),
    [
        ("+14155550100", "US"),
        ("+14165550100", "CA"),
        ("+442071838750", "GB"),
        ("+447781123456", "GG"),
        ("+4915112345678", "DE"),
        ("+61412345678", "AU"),
        ("+80012345678", ""),
        ("+15555550100", ""),
        ("not a number", ""),
        ("", ""),
    ],
)
def test_it_tells_the_country_of_an_e164_number(phone, country):
    assert country_of(phone) == country


# --- The price of a segment ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender_type", "country", "number_type", "amount"),
    [
        (SenderType.LOCAL, "US", "local", "0.0081"),
        (SenderType.TOLL_FREE, "US", "toll free", "0.0090"),
        (SenderType.SHORT_CODE, "US", "shortcode", "0.0100"),
        # A long code is "mobile" in most countries' price lists.
        (SenderType.LOCAL, "GB", "mobile", "0.0470"),
        (SenderType.SHORT_CODE, "GB", "shortcode", "0.0520"),
        # A Messaging Service may send from any type in its pool: the highest of them.
        (SenderType.MESSAGING_SERVICE, "US", "shortcode", "0.0100"),
        (SenderType.MESSAGING_SERVICE, "GB", "shortcode", "0.0520"),
    ],
)
def test_a_segment_costs_the_highest_carrier_price_for_the_senders_number_type(
    personas, sender_type, country, number_type, amount
):
    credentials = connected(personas, sender_type)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("US", prices=US))
        pm.country(rsps, pm.country_body("GB", "United Kingdom", pm.GB))
        rsps.assert_all_requests_are_fired = False

        price = message_price(credentials=credentials, iso_country=country.lower())

    assert price == SegmentPrice(country, "USD", number_type, Decimal(amount))


def test_the_fixtures_local_price_is_its_dearest_carriers_not_its_first(personas):
    credentials = connected(personas)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body())

        price = message_price(credentials=credentials, iso_country="US")

    # AT&T 0.0079, T-Mobile 0.0083, Verizon 0.0081.
    assert price == SegmentPrice("US", "USD", "local", Decimal("0.0083"))


def test_no_price_for_a_number_type_the_country_does_not_list(personas):
    credentials = connected(personas, SenderType.TOLL_FREE)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("GB", "United Kingdom", pm.GB))

        assert message_price(credentials=credentials, iso_country="GB") is None


def test_no_price_for_a_country_twilio_does_not_price_or_a_code_that_is_not_one(personas):
    credentials = connected(personas)
    with responses.RequestsMock() as rsps:
        pm.unknown_country(rsps, "XK")

        assert message_price(credentials=credentials, iso_country="XK") is None
        assert message_price(credentials=credentials, iso_country="") is None
        assert message_price(credentials=credentials, iso_country="US/../..") is None

        assert len(rsps.calls) == 1


# --- The day's cache -------------------------------------------------------------------------


def test_prices_are_cached_for_a_day_per_account_and_country_without_the_token(
    personas, monkeypatch
):
    spy = CacheSpy()
    monkeypatch.setattr(pricing, "cache", spy)
    credentials = connected(personas)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("US", prices=US))
        pm.unknown_country(rsps, "XK")

        first = message_price(credentials=credentials, iso_country="US")
        message_price(credentials=credentials, iso_country="XK")
        again = message_price(credentials=credentials, iso_country="US")
        estimate = cost_estimate(organization=personas.org, segments_by_country={"US": 2, "XK": 3})

        assert len(rsps.calls) == 2
    assert again == first
    assert estimate.total == Decimal("0.0162")
    assert estimate.unpriced == (UnpricedCountry("XK", 3),)
    assert [(key, timeout) for key, _value, timeout in spy.stored] == [
        (f"twilio-prices:v1:{tw.ACCOUNT_SID}:US", 24 * 60 * 60),
        (f"twilio-prices:v1:{tw.ACCOUNT_SID}:XK", 24 * 60 * 60),
    ]
    assert all(tw.AUTH_TOKEN not in repr(stored) for stored in spy.stored)


def test_a_second_estimate_asks_twilio_nothing(personas):
    connected(personas)
    segments = {"US": 1200, "GB": 40}
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("US", prices=US))
        pm.country(rsps, pm.country_body("GB", "United Kingdom", pm.GB))

        first = cost_estimate(organization=personas.org, segments_by_country=segments)
        second = cost_estimate(organization=personas.org, segments_by_country=segments)

        assert len(rsps.calls) == 2
    assert second == first
    assert first.available


def test_another_account_is_never_served_from_the_first_ones_cache(personas):
    connected(personas)
    helpers.connect(personas, "outsider", account_sid=OTHER_SID, auth_token=OTHER_TOKEN)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("US", prices=US))
        mine = cost_estimate(organization=personas.org, segments_by_country={"US": 100})
        rsps.replace(
            responses.GET,
            pm.country_url("US"),
            json=pm.country_body("US", prices={"Verizon Wireless": {"local": "0.0070"}}),
        )

        theirs = cost_estimate(organization=personas.other_org, segments_by_country={"US": 100})

        assert [auth_of(call) for call in rsps.calls] == [
            f"{tw.ACCOUNT_SID}:{tw.AUTH_TOKEN}",
            f"{OTHER_SID}:{OTHER_TOKEN}",
        ]
    assert mine.lines == (CostLine("US", 100, Decimal("0.0081"), Decimal("0.8100")),)
    assert theirs.lines == (CostLine("US", 100, Decimal("0.0070"), Decimal("0.7000")),)


# --- The estimate ----------------------------------------------------------------------------


def test_it_estimates_two_countries_exactly_in_decimal(personas):
    connected(personas)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("US", prices=US))
        pm.country(rsps, pm.country_body("GB", "United Kingdom", pm.GB))

        estimate = cost_estimate(
            organization=personas.org, segments_by_country={"us": 1200, "GB": 37}
        )

    assert estimate == CostEstimate(
        currency="USD",
        total=Decimal("11.4590"),
        lines=(
            CostLine("GB", 37, Decimal("0.0470"), Decimal("1.7390")),
            CostLine("US", 1200, Decimal("0.0081"), Decimal("9.7200")),
        ),
        unpriced=(),
    )
    assert str(estimate.total) == "11.4590"
    assert estimate.available
    assert estimate.unpriced_segments == 0


def test_a_toll_free_sender_is_priced_as_toll_free_and_leaves_out_what_it_cannot_text(personas):
    connected(personas, SenderType.TOLL_FREE)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("US", prices=US))
        pm.country(rsps, pm.country_body("GB", "United Kingdom", pm.GB))

        estimate = cost_estimate(organization=personas.org, segments_by_country={"US": 10, "GB": 4})

    assert estimate.lines == (CostLine("US", 10, Decimal("0.0090"), Decimal("0.0900")),)
    assert estimate.total == Decimal("0.0900")
    assert estimate.unpriced == (UnpricedCountry("GB", 4),)
    assert estimate.unpriced_segments == 4
    assert estimate.available


def test_countries_without_a_price_are_left_out_and_named_never_raised(personas):
    connected(personas)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("US", prices=US))
        pm.unknown_country(rsps, "XK")

        estimate = cost_estimate(
            organization=personas.org,
            segments_by_country={"US": 5, "XK": 7, "": 2, "ZZZ": 1, "CA": 0},
        )

        # Only real country codes reach Twilio; a country without segments is not asked about.
        assert tw.requests_made(rsps) == [
            "GET /v1/Messaging/Countries/US",
            "GET /v1/Messaging/Countries/XK",
        ]
    assert estimate.lines == (CostLine("US", 5, Decimal("0.0081"), Decimal("0.0405")),)
    assert estimate.unpriced == (
        UnpricedCountry("", 2),
        UnpricedCountry("XK", 7),
        UnpricedCountry("ZZZ", 1),
    )
    assert estimate.unpriced_segments == 10
    assert estimate.available


def test_a_price_in_another_currency_is_left_out_rather_than_added_up(personas):
    connected(personas)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("DE", "Germany", {"Telekom": {"mobile": "0.0890"}}))
        pm.country(rsps, pm.country_body("US", prices=US, price_unit="EUR"))

        estimate = cost_estimate(organization=personas.org, segments_by_country={"US": 1, "DE": 1})

    assert estimate.currency == "USD"
    assert estimate.lines == (CostLine("DE", 1, Decimal("0.0890"), Decimal("0.0890")),)
    assert estimate.unpriced == (UnpricedCountry("US", 1),)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            {"body": requests.ConnectTimeout("connect timed out")},
            "Twilio's prices could not be fetched: Twilio could not be reached.",
        ),
        (
            {"json": {"message": "Service Unavailable", "status": 503}, "status": 503},
            "Twilio's prices could not be fetched: Service Unavailable",
        ),
        (
            {"json": tw.error(20003, 401, "Authenticate"), "status": 401},
            "Twilio's prices could not be fetched: Twilio refused the Account SID and Auth Token.",
        ),
    ],
    ids=["unreachable", "5xx", "refused"],
)
def test_twilio_failing_gives_an_unavailable_estimate_not_an_exception(personas, answer, reason):
    connected(personas)
    with responses.RequestsMock() as rsps:
        pm.country(rsps, pm.country_body("GB", "United Kingdom", pm.GB))
        rsps.get(pm.country_url("US"), **answer)

        estimate = cost_estimate(
            organization=personas.org, segments_by_country={"US": 3, "GB": 2, "XK": 1}
        )

        # Countries are asked in order and the first failure ends it: GB, then US.
        assert len(rsps.calls) == 2
    assert estimate == CostEstimate(
        currency="",
        total=Decimal(0),
        lines=(),
        unpriced=(UnpricedCountry("GB", 2), UnpricedCountry("US", 3), UnpricedCountry("XK", 1)),
        unavailable=reason,
    )
    assert not estimate.available
    assert estimate.unpriced_segments == 6


def test_a_failure_is_not_cached_so_the_next_estimate_asks_again(personas):
    connected(personas)
    with responses.RequestsMock() as rsps:
        rsps.get(pm.country_url("US"), body=requests.ConnectTimeout("connect timed out"))
        down = cost_estimate(organization=personas.org, segments_by_country={"US": 1})
        rsps.replace(responses.GET, pm.country_url("US"), json=pm.country_body("US", prices=US))

        back = cost_estimate(organization=personas.org, segments_by_country={"US": 1})

    assert not down.available
    assert back.available
    assert back.total == Decimal("0.0081")


def test_without_a_twilio_connection_the_estimate_is_unavailable(personas):
    with responses.RequestsMock() as rsps:
        estimate = cost_estimate(organization=personas.org, segments_by_country={"US": 3})

        assert len(rsps.calls) == 0
    assert estimate.unavailable == "Connect a Twilio account to estimate the cost."
    assert estimate.unpriced == (UnpricedCountry("US", 3),)


def test_negative_segments_are_a_programming_error(personas):
    connected(personas)
    with pytest.raises(ValueError, match="Negative segments for 'US': -1"):
        cost_estimate(organization=personas.org, segments_by_country={"US": -1})
