"""The sandbox's Usage Records (``GET /2010-04-01/Accounts/{sid}/Usage/Records/Daily.json``):
per UTC day and category, from the messages it was asked to send, with Twilio's filters and
paging; read over real HTTP by the seam and by the refresh behind the dashboard's spend."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connections import twilio_api
from connections.crypto import Secret
from connections.services.usage import spend, usage_refresh
from sandbox.server import build_app
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Account, Options
from sandbox.usage import MMS_MESSAGE_PRICE, SMS_SEGMENT_PRICE
from sandbox.web import ACCOUNT
from tests.sandbox.conftest import (
    LOCAL,
    OTHER_TOKEN,
    PHONE,
    BackgroundServer,
    PhoneSink,
    Sandbox,
    assert_twilio_error,
)
from tests.sandbox.test_connect_flow import connect

DAILY = "/Usage/Records/Daily.json"
LONG = "x" * 170  # GSM-7, two segments
EMOJI = "Thanks 🎉"  # UCS-2, one segment


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, Account]]:
    """A sandbox and its account's state, to date messages on chosen days."""
    options = Options(callback_delay_ms=0)
    app = build_app(options)
    server = BackgroundServer(app)
    server.start()
    sandbox = Sandbox(url=server.url, options=options)
    yield sandbox, app[ACCOUNT]
    sandbox.session.close()
    server.stop()


def send(sandbox: Sandbox, body: str = "Hi", **params: str) -> str:
    response = sandbox.create_message(To=PHONE, From=LOCAL, Body=body, **params)
    assert response.status_code == 201, response.text
    sid: str = response.json()["sid"]
    return sid


def daily(sandbox: Sandbox, **params: str) -> dict:
    response = sandbox.get(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}{DAILY}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict = response.json()
    return body


def figures(body: dict) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(start_date, category) → (count, usage, price) of each record."""
    return {
        (r["start_date"], r["category"]): (r["count"], r["usage"], r["price"])
        for r in body["usage_records"]
    }


def test_it_bills_each_utc_day_and_category_from_the_messages_sent(served, phone_sink: PhoneSink):
    sandbox, account = served
    new_york = ZoneInfo("America/New_York")
    first = send(sandbox, "Hi")
    second = send(sandbox, LONG)
    late = send(sandbox, EMOJI)
    media = send(sandbox, "Look", MediaUrl="https://example.com/cat.jpg")
    account.messages[first].created = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    account.messages[second].created = datetime(2026, 3, 10, 18, 0, tzinfo=new_york)
    # 21:30 in New York on the 10th is the 11th in UTC, Twilio's day.
    account.messages[late].created = datetime(2026, 3, 10, 21, 30, tzinfo=new_york)
    account.messages[media].created = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    answer = sandbox.inbound(
        **{"from": PHONE, "to": LOCAL, "body": "Thanks", "url": f"{phone_sink.url}/inbound"}
    )
    assert answer.status_code == 200, answer.text

    body = daily(sandbox, StartDate="2026-03-09", EndDate="2026-03-11")

    assert figures(body) == {
        ("2026-03-09", "sms"): ("0", "0", "0.0000"),
        ("2026-03-10", "sms"): ("2", "3", str(3 * SMS_SEGMENT_PRICE)),
        ("2026-03-11", "sms"): ("1", "1", str(SMS_SEGMENT_PRICE)),
        ("2026-03-09", "mms"): ("0", "0", "0.0000"),
        ("2026-03-10", "mms"): ("0", "0", "0.0000"),
        ("2026-03-11", "mms"): ("1", "1", str(MMS_MESSAGE_PRICE)),
    }
    record = body["usage_records"][1]
    assert record == {
        "account_sid": DEFAULT_ACCOUNT_SID,
        "api_version": "2010-04-01",
        "as_of": record["as_of"],
        "category": "sms",
        "count": "2",
        "count_unit": "messages",
        "description": "SMS",
        "end_date": "2026-03-10",
        "price": "0.0249",
        "price_unit": "usd",
        "start_date": "2026-03-10",
        "subresource_uris": {},
        "uri": f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}{DAILY}"
        "?Category=sms&StartDate=2026-03-10&EndDate=2026-03-10",
        "usage": "3",
        "usage_unit": "messages",
    }
    assert datetime.fromisoformat(record["as_of"]).tzinfo is not None
    assert body["next_page_uri"] is None


def test_it_answers_only_the_category_asked_for(sandbox):
    send(sandbox, "Look", MediaUrl="https://example.com/cat.jpg")
    today = datetime.now(UTC).date().isoformat()

    mms = daily(sandbox, Category="mms", StartDate=today, EndDate=today)
    unknown = daily(sandbox, Category="calls", StartDate=today, EndDate=today)

    assert figures(mms) == {(today, "mms"): ("1", "1", str(MMS_MESSAGE_PRICE))}
    assert unknown["usage_records"] == []


def test_without_dates_it_answers_the_month_up_to_today(sandbox):
    today = datetime.now(UTC).date()

    body = daily(sandbox, Category="sms")

    days = [r["start_date"] for r in body["usage_records"]]
    assert days == [(today - timedelta(days=n)).isoformat() for n in range(30, -1, -1)]


def test_it_reads_dates_given_as_offsets_from_today(sandbox):
    today = datetime.now(UTC).date()

    body = daily(sandbox, Category="sms", StartDate="-2days", EndDate="+0days")

    days = [r["start_date"] for r in body["usage_records"]]
    assert days == [(today - timedelta(days=n)).isoformat() for n in (2, 1, 0)]


def test_it_pages_with_page_size_and_next_page_uri(sandbox):
    first = daily(
        sandbox, Category="sms", StartDate="2026-03-01", EndDate="2026-03-03", PageSize="2"
    )

    assert [r["start_date"] for r in first["usage_records"]] == ["2026-03-01", "2026-03-02"]
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 2, 0, 1)
    next_uri = first["next_page_uri"]
    assert next_uri.startswith(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}{DAILY}?")
    assert "Page=1" in next_uri
    assert first["previous_page_uri"] is None

    response = sandbox.get(next_uri)
    second = response.json()

    assert [r["start_date"] for r in second["usage_records"]] == ["2026-03-03"]
    assert (second["page"], second["start"], second["end"]) == (1, 2, 2)
    assert second["next_page_uri"] is None
    assert "Page=0" in second["previous_page_uri"]


@pytest.mark.parametrize("value", ["2026-3-1", "yesterday", "2026-02-30"])
def test_a_date_it_cannot_read_is_a_400(sandbox, value):
    response = sandbox.get(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}{DAILY}", params={"StartDate": value}
    )

    assert value in assert_twilio_error(response, 400, 20001)["message"]


def test_it_refuses_bad_credentials_and_other_accounts(sandbox):
    path = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}{DAILY}"

    assert_twilio_error(sandbox.get(path, auth=(DEFAULT_ACCOUNT_SID, OTHER_TOKEN)), 401, 20003)
    assert_twilio_error(sandbox.get(path, auth=None), 401, 20003)
    other = "AC" + "0" * 32
    assert_twilio_error(sandbox.get(f"/2010-04-01/Accounts/{other}{DAILY}"), 404, 20404)


# --- Read by the hub ------------------------------------------------------------------------


@pytest.fixture
def hub(settings, monkeypatch, sandbox: Sandbox) -> Sandbox:
    """The seam pointed at the sandbox, with a connection pool of its own."""
    monkeypatch.setattr(twilio_api, "_local", threading.local())
    settings.TWILIO_API_BASE_URL = sandbox.url
    settings.TWILIO_MESSAGING_BASE_URL = sandbox.url
    settings.TWILIO_PRICING_BASE_URL = sandbox.url
    settings.PUBLIC_BASE_URL = "https://hub.example.com"
    return sandbox


def test_the_seam_reads_every_page_of_it(hub):
    send(hub, LONG)
    send(hub, "Look", MediaUrl="https://example.com/cat.jpg")
    today = datetime.now(UTC).date()
    gateway = twilio_api.TwilioGateway(DEFAULT_ACCOUNT_SID, Secret(DEFAULT_AUTH_TOKEN))

    records = gateway.list_daily_usage(
        start=today - timedelta(days=4), end=today, categories=["sms", "mms"], page_size=2
    )

    assert len(records) == 10
    assert [(r.day, r.category) for r in records][-1] == (today, "mms")
    billed = {(r.category, r.count, r.usage, r.price, r.price_unit) for r in records if r.count}
    assert billed == {
        ("sms", 1, 2, 2 * SMS_SEGMENT_PRICE, "USD"),
        ("mms", 1, 1, MMS_MESSAGE_PRICE, "USD"),
    }


@pytest.mark.django_db
def test_a_connected_organizations_spend_comes_from_it(personas, hub):
    connection = connect(personas, LOCAL)
    send(hub, "Hi")
    send(hub, LONG)
    today = datetime.now(UTC).date()

    assert usage_refresh(connection) is True
    found = spend(personas.org, start=today - timedelta(days=1), end=today)

    assert [(d.day, d.sms, d.mms) for d in found.days] == [
        (today - timedelta(days=1), Decimal(0), Decimal(0)),
        (today, 3 * SMS_SEGMENT_PRICE, Decimal(0)),
    ]
    assert (found.total, found.currency) == (3 * SMS_SEGMENT_PRICE, "USD")
    assert found.fetched_at is not None
    assert spend(personas.other_org, start=today, end=today).total == Decimal(0)
