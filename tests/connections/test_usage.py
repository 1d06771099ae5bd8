"""Spend from Twilio's Usage Records: the seam's call (``GET /2010-04-01/Accounts/{sid}/Usage/
Records/Daily.json``, one per category, every page), the hourly refresh that stores 31 UTC days
of figures, ``spend()`` for the dashboard, and the beat task over every connected account."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from django.utils import timezone
from responses import matchers

from config.celery import app as celery_app
from connections import tasks
from connections.crypto import Secret
from connections.models import Connection, ConnectionState, TwilioCredentials, UsageDay
from connections.services.connections import connection_disconnect, twilio_connect
from connections.services.usage import Spend, SpendDay, spend, usage_refresh
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import ErrorKind, TwilioError
from connections.twilio_records import UsageRecord
from tenants.actor import Actor
from tenants.models import Membership
from tenants.services.organizations import organization_create
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.factories import make_user

# 21:30 in New York on 10 March is 01:30 UTC on the 11th: Twilio's day, and so ours, is the 11th.
NOW = datetime(2026, 3, 10, 21, 30, tzinfo=ZoneInfo("America/New_York"))
END = date(2026, 3, 11)
START = date(2026, 2, 9)  # 31 days up to END
OTHER_SID = "AC" + "d" * 32
OTHER_TOKEN = "e" * 32


def daily_url(account_sid: str = tw.ACCOUNT_SID) -> str:
    return f"{tw.API}/Accounts/{account_sid}/Usage/Records/Daily.json"


def usage_record(
    day: date | str,
    category: str = "sms",
    count: int = 0,
    usage: int = 0,
    price: Any = "0",
    price_unit: str = "usd",
    account_sid: str = tw.ACCOUNT_SID,
) -> dict[str, Any]:
    """One daily record as Twilio answers it: counts and prices as strings, days in GMT."""
    day = str(day)
    path = f"/2010-04-01/Accounts/{account_sid}/Usage/Records/Daily.json"
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "as_of": "2026-03-11T01:29:12+00:00",
        "category": category,
        "count": str(count),
        "count_unit": "messages",
        "description": category.upper(),
        "end_date": day,
        "price": price,
        "price_unit": price_unit,
        "start_date": day,
        "subresource_uris": {},
        "uri": f"{path}?Category={category}&StartDate={day}&EndDate={day}",
        "usage": str(usage),
        "usage_unit": "messages",
    }


def usage_page(
    records: list[dict[str, Any]], *, next_page_uri: str | None = None, page: int = 0
) -> dict[str, Any]:
    uri = "/2010-04-01/Accounts/AC/Usage/Records/Daily.json"
    return {
        "usage_records": records,
        "end": page * 100 + max(len(records) - 1, 0),
        "first_page_uri": uri,
        "next_page_uri": next_page_uri,
        "page": page,
        "page_size": 100,
        "previous_page_uri": None,
        "start": page * 100,
        "uri": uri,
    }


def query(category: str, start: date = START, end: date = END, **more: str) -> dict[str, str]:
    return {
        "Category": category,
        "StartDate": start.isoformat(),
        "EndDate": end.isoformat(),
        "IncludeSubaccounts": "false",
        "PageSize": "100",
        **more,
    }


def mock_usage(
    rsps: responses.RequestsMock,
    sms: list[dict[str, Any]] | None = None,
    mms: list[dict[str, Any]] | None = None,
    *,
    account_sid: str = tw.ACCOUNT_SID,
    start: date = START,
    end: date = END,
) -> None:
    """Twilio's answer for each category, over the refresh's window."""
    for category, records in (("sms", sms or []), ("mms", mms or [])):
        rsps.get(
            daily_url(account_sid),
            json=usage_page(records),
            match=[matchers.query_param_matcher(query(category, start, end))],
        )


def gateway() -> TwilioGateway:
    return TwilioGateway(tw.ACCOUNT_SID, Secret(tw.AUTH_TOKEN))


def figures(connection: Connection) -> dict[tuple[date, str], tuple[int, int, Decimal, str]]:
    """The stored figures that differ from zero, by (day, category)."""
    return {
        (row.day, row.category): (row.count, row.usage, row.price, row.price_unit)
        for row in UsageDay.objects.filter(connection=connection)
        if row.count or row.usage or row.price
    }


# --- The seam -------------------------------------------------------------------------------


def test_it_asks_twilio_for_each_categorys_daily_usage_with_basic_auth(rsps):
    mock_usage(
        rsps,
        sms=[usage_record("2026-03-10", "sms", 3, 5, "0.0395")],
        mms=[usage_record("2026-03-10", "mms", 1, 1, "0.0200")],
    )

    records = gateway().list_daily_usage(start=START, end=END, categories=["sms", "mms"])

    path = f"/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Usage/Records/Daily.json"
    assert [made.split("?")[0] for made in tw.requests_made(rsps)] == [f"GET {path}"] * 2
    assert [dict(call.request.params) for call in rsps.calls] == [query("sms"), query("mms")]
    expected = base64.b64encode(f"{tw.ACCOUNT_SID}:{tw.AUTH_TOKEN}".encode()).decode()
    assert {call.request.headers["Authorization"] for call in rsps.calls} == {f"Basic {expected}"}
    assert records == [
        UsageRecord(date(2026, 3, 10), "sms", 3, 5, Decimal("0.0395"), "USD"),
        UsageRecord(date(2026, 3, 10), "mms", 1, 1, Decimal("0.0200"), "USD"),
    ]


def test_it_follows_next_page_uri_to_the_last_page(rsps):
    second = (
        f"/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Usage/Records/Daily.json?Category=sms"
        "&StartDate=2026-02-09&EndDate=2026-03-11&IncludeSubaccounts=false&PageSize=100"
        "&Page=1&PageToken=PASMS100"
    )
    rsps.get(
        daily_url(),
        json=usage_page([usage_record("2026-03-09", "sms", 1, 1, "0.0079")], next_page_uri=second),
        match=[matchers.query_param_matcher(query("sms"))],
    )
    rsps.get(
        daily_url(),
        json=usage_page([usage_record("2026-03-10", "sms", 2, 4, "0.0316")], page=1),
        match=[matchers.query_param_matcher(query("sms", Page="1", PageToken="PASMS100"))],
    )

    records = gateway().list_daily_usage(start=START, end=END, categories=["sms"])

    assert rsps.calls[1].request.url == f"https://api.twilio.com{second}"
    assert [(r.day, r.count, r.usage, r.price) for r in records] == [
        (date(2026, 3, 9), 1, 1, Decimal("0.0079")),
        (date(2026, 3, 10), 2, 4, Decimal("0.0316")),
    ]


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("0.0079", Decimal("0.0079")),
        ("-0.79", Decimal("-0.79")),  # a credit
        ("", Decimal(0)),
        (None, Decimal(0)),
        (0.0079, Decimal("0.0079")),  # a JSON number, not its binary digits
    ],
)
def test_it_reads_prices_as_decimals(rsps, price, expected):
    rsps.get(daily_url(), json=usage_page([usage_record("2026-03-10", "sms", 1, 1, price)]))

    [record] = gateway().list_daily_usage(start=START, end=END, categories=["sms"])

    assert record.price == expected
    assert str(record.price) == str(expected)


def test_a_price_that_is_no_number_is_the_seams_permanent_error(rsps):
    rsps.get(daily_url(), json=usage_page([usage_record("2026-03-10", "sms", 1, 1, "n/a")]))

    with pytest.raises(TwilioError) as excinfo:
        gateway().list_daily_usage(start=START, end=END, categories=["sms"])

    assert excinfo.value.kind is ErrorKind.PERMANENT


@pytest.mark.parametrize(
    ("answer", "kind", "code"),
    [
        ({"json": tw.load("error_20003"), "status": 401}, ErrorKind.PERMANENT, 20003),
        ({"json": {"message": "Internal", "status": 500}, "status": 500}, ErrorKind.UNKNOWN, None),
        ({"body": requests.ReadTimeout("Read timed out.")}, ErrorKind.UNKNOWN, None),
        ({"body": requests.ConnectionError("Connection refused")}, ErrorKind.RETRY, None),
    ],
)
def test_failures_are_the_seams_error(rsps, answer, kind, code):
    rsps.get(daily_url(), **answer)

    with pytest.raises(TwilioError) as excinfo:
        gateway().list_daily_usage(start=START, end=END, categories=["sms"])

    assert (excinfo.value.kind, excinfo.value.code) == (kind, code)


# --- The refresh ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_stores_every_utc_day_of_the_last_31_for_sms_and_mms(personas, rsps):
    connection = connect(personas)
    mock_usage(
        rsps,
        sms=[
            usage_record("2026-02-09", "sms", 2, 2, "0.0158"),
            usage_record("2026-03-11", "sms", 4, 6, "0.0474"),
            usage_record("2026-03-12", "sms", 9, 9, "9"),  # outside the window: ignored
        ],
        mms=[usage_record("2026-03-01", "mms", 1, 1, "0.0200")],
    )

    assert usage_refresh(connection, now=NOW) is True

    rows = UsageDay.objects.filter(connection=connection)
    assert rows.count() == 31 * 2
    assert {row.day for row in rows} == {START + timedelta(days=n) for n in range(31)}
    assert {row.fetched_at for row in rows} == {NOW}
    assert {row.price_unit for row in rows} == {"USD"}
    assert figures(connection) == {
        (date(2026, 2, 9), "sms"): (2, 2, Decimal("0.0158"), "USD"),
        (date(2026, 3, 11), "sms"): (4, 6, Decimal("0.0474"), "USD"),
        (date(2026, 3, 1), "mms"): (1, 1, Decimal("0.0200"), "USD"),
    }


@pytest.mark.django_db
def test_a_later_refresh_updates_the_same_rows(personas, rsps):
    connection = connect(personas)
    mock_usage(rsps, sms=[usage_record("2026-03-11", "sms", 1, 1, "0.0079")])
    usage_refresh(connection, now=NOW)
    ids = set(UsageDay.objects.values_list("pk", flat=True))
    later = NOW + timedelta(hours=1)
    rsps.reset()
    mock_usage(
        rsps,
        sms=[usage_record("2026-03-11", "sms", 3, 4, "0.0316")],
        mms=[usage_record("2026-03-10", "mms", 2, 2, "-0.04")],
    )

    assert usage_refresh(connection, now=later) is True

    assert set(UsageDay.objects.values_list("pk", flat=True)) == ids
    assert figures(connection) == {
        (date(2026, 3, 11), "sms"): (3, 4, Decimal("0.0316"), "USD"),
        (date(2026, 3, 10), "mms"): (2, 2, Decimal("-0.04"), "USD"),
    }
    assert set(UsageDay.objects.values_list("fetched_at", flat=True)) == {later}


@pytest.mark.django_db
def test_it_skips_figures_fetched_within_the_hour_unless_forced(personas, rsps):
    connection = connect(personas)
    mock_usage(rsps, sms=[usage_record("2026-03-11", "sms", 1, 1, "0.0079")])
    usage_refresh(connection, now=NOW)
    rsps.reset()

    assert usage_refresh(connection, now=NOW + timedelta(minutes=30)) is False
    assert len(rsps.calls) == 0

    mock_usage(rsps, sms=[usage_record("2026-03-11", "sms", 2, 2, "0.0158")])
    assert usage_refresh(connection, now=NOW + timedelta(minutes=31), force=True) is True
    assert figures(connection)[(date(2026, 3, 11), "sms")][0] == 2
    assert len(rsps.calls) == 2


@pytest.mark.django_db
def test_the_hourly_run_is_not_skipped_for_a_fetch_a_few_seconds_short_of_an_hour(personas, rsps):
    connection = connect(personas)
    mock_usage(rsps)
    usage_refresh(connection, now=NOW)
    rsps.reset()
    mock_usage(rsps, sms=[usage_record("2026-03-11", "sms", 5, 5, "0.0395")])

    assert usage_refresh(connection, now=NOW + timedelta(minutes=59, seconds=58)) is True

    assert figures(connection)[(date(2026, 3, 11), "sms")][0] == 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer",
    [
        {"json": tw.load("error_20003"), "status": 401},
        {"json": {"message": "Internal", "status": 500}, "status": 500},
        {"body": requests.ReadTimeout("Read timed out.")},
    ],
    ids=["401", "500", "timeout"],
)
def test_a_twilio_failure_keeps_the_old_figures_and_logs_no_secret(personas, rsps, caplog, answer):
    connection = connect(personas)
    mock_usage(rsps, sms=[usage_record("2026-03-11", "sms", 1, 1, "0.0079")])
    usage_refresh(connection, now=NOW)
    before = list(UsageDay.objects.order_by("pk").values())
    rsps.reset()
    rsps.get(daily_url(), **answer)
    caplog.set_level(logging.INFO)

    assert usage_refresh(connection, now=NOW + timedelta(hours=2)) is False

    assert list(UsageDay.objects.order_by("pk").values()) == before
    [warning] = [r for r in caplog.records if r.getMessage().startswith("usage refresh failed")]
    assert warning.levelno == logging.WARNING
    assert str(connection.public_id) in warning.getMessage()
    assert tw.AUTH_TOKEN not in caplog.text
    assert tw.AUTH_TOKEN[-4:] not in caplog.text
    assert spend(personas.org, start=END, end=END).fetched_at == NOW


@pytest.mark.django_db
def test_twilio_refusing_the_keys_marks_the_connection_failing(personas, rsps):
    connection = connect(personas)
    rsps.get(daily_url(), json=tw.load("error_20003"), status=401)

    usage_refresh(connection, now=NOW)

    connection.refresh_from_db()
    assert connection.state == ConnectionState.FAILING
    assert connection.last_error == "Twilio refused the Account SID and Auth Token."


@pytest.mark.django_db
def test_a_disconnected_connection_is_not_refreshed(personas, rsps):
    connection = connect(personas)
    membership = personas.membership("owner")
    connection_disconnect(connection=connection, by=Actor.for_membership(membership))

    assert usage_refresh(Connection.objects.get(pk=connection.pk), now=NOW, force=True) is False
    assert len(rsps.calls) == 0
    assert not UsageDay.objects.exists()


# --- spend() --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_spend_has_every_day_asked_for_with_zeros_and_totals(personas, rsps):
    connection = connect(personas)
    mock_usage(
        rsps,
        sms=[
            usage_record("2026-03-09", "sms", 2, 3, "0.0237"),
            usage_record("2026-03-11", "sms", 1, 1, "0.0079"),
        ],
        mms=[
            usage_record("2026-03-09", "mms", 1, 1, "0.0200"),
            usage_record("2026-03-10", "mms", 0, 0, "-0.0100"),  # a credit
        ],
    )
    usage_refresh(connection, now=NOW)

    found = spend(personas.org, start=date(2026, 3, 8), end=date(2026, 3, 12))

    assert found == Spend(
        days=[
            SpendDay(date(2026, 3, 8), Decimal(0), Decimal(0), Decimal(0)),
            SpendDay(date(2026, 3, 9), Decimal("0.0237"), Decimal("0.02"), Decimal("0.0437")),
            SpendDay(date(2026, 3, 10), Decimal(0), Decimal("-0.01"), Decimal("-0.01")),
            SpendDay(date(2026, 3, 11), Decimal("0.0079"), Decimal(0), Decimal("0.0079")),
            SpendDay(date(2026, 3, 12), Decimal(0), Decimal(0), Decimal(0)),  # not fetched yet
        ],
        total=Decimal("0.0416"),
        currency="USD",
        fetched_at=NOW,
    )


@pytest.mark.django_db
def test_spend_of_an_organization_never_fetched_is_zero_and_says_so(personas):
    connect(personas)

    found = spend(personas.org, start=date(2026, 3, 1), end=date(2026, 3, 2))

    assert found == Spend(
        days=[
            SpendDay(date(2026, 3, 1), Decimal(0), Decimal(0), Decimal(0)),
            SpendDay(date(2026, 3, 2), Decimal(0), Decimal(0), Decimal(0)),
        ],
        total=Decimal(0),
        currency="",
        fetched_at=None,
    )
    assert spend(personas.other_org, start=END, end=END).fetched_at is None  # no connection


@pytest.mark.django_db
def test_spend_of_one_organization_never_includes_anothers(personas, rsps):
    ours = connect(personas)
    theirs = connect(personas, "outsider", account_sid=OTHER_SID, auth_token=OTHER_TOKEN)
    mock_usage(rsps, sms=[usage_record("2026-03-11", "sms", 1, 1, "0.0079")])
    mock_usage(
        rsps,
        sms=[usage_record("2026-03-11", "sms", 100, 100, "0.79", account_sid=OTHER_SID)],
        mms=[usage_record("2026-03-10", "mms", 9, 9, "0.18", account_sid=OTHER_SID)],
        account_sid=OTHER_SID,
    )
    usage_refresh(ours, now=NOW)
    usage_refresh(theirs, now=NOW - timedelta(minutes=5))

    mine = spend(personas.org, start=START, end=END)
    other = spend(personas.other_org, start=START, end=END)

    assert (mine.total, mine.fetched_at) == (Decimal("0.0079"), NOW)
    assert (other.total, other.fetched_at) == (Decimal("0.97"), NOW - timedelta(minutes=5))


def test_spend_refuses_a_range_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="after end"):
        spend(None, start=END, end=START)  # type: ignore[arg-type]


# --- The beat task --------------------------------------------------------------------------


def test_beat_refreshes_usage_records_every_hour():
    entry = celery_app.conf.beat_schedule["refresh-usage-records"]

    assert entry["task"] == tasks.refresh_usage_records.name
    assert entry["schedule"].minute == {23}
    assert len(entry["schedule"].hour) == 24


def connect_organization(name: str, account_sid: str) -> Connection:
    """A third organization, connected through the verified flow to its own account."""
    owner = make_user()
    organization = organization_create(name=name, owner=owner)
    membership = Membership.objects.get(organization=organization, user=owner)
    with responses.RequestsMock() as twilio:
        tw.happy_local_number(twilio, account_sid=account_sid)
        return twilio_connect(
            organization=organization,
            by=Actor.for_membership(membership),
            account_sid=account_sid,
            auth_token=tw.AUTH_TOKEN,
            phone_number=tw.NUMBER,
        )


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refresh's clock at NOW, so the window is START..END whatever the day."""
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(UTC))


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen")
def test_the_beat_task_refreshes_every_connected_account(personas, rsps):
    ours = connect(personas)
    theirs = connect(personas, "outsider", account_sid=OTHER_SID, auth_token=OTHER_TOKEN)
    mock_usage(rsps, sms=[usage_record(END, "sms", 1, 1, "0.0079")])
    mock_usage(
        rsps,
        sms=[usage_record(END, "sms", 2, 2, "0.0158", account_sid=OTHER_SID)],
        account_sid=OTHER_SID,
    )

    assert tasks.refresh_usage_records.delay().get() == 2

    assert figures(ours) == {(END, "sms"): (1, 1, Decimal("0.0079"), "USD")}
    assert figures(theirs) == {(END, "sms"): (2, 2, Decimal("0.0158"), "USD")}


@pytest.mark.django_db
def test_the_beat_task_leaves_out_disconnected_and_unverified_connections(personas, rsps):
    connection_disconnect(
        connection=connect(personas), by=Actor.for_membership(personas.membership("owner"))
    )
    unverified = connect(personas, "outsider", account_sid=OTHER_SID, auth_token=OTHER_TOKEN)
    Connection.objects.filter(pk=unverified.pk).update(verified_at=None)

    assert tasks.refresh_usage_records.delay().get() == 0

    assert len(rsps.calls) == 0
    assert not UsageDay.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen")
def test_one_failing_connection_does_not_stop_the_others(personas, rsps, monkeypatch, caplog):
    broken = connect(personas)
    failing = connect(personas, "outsider", account_sid=OTHER_SID, auth_token=OTHER_TOKEN)
    third_sid = "AC" + "f" * 32
    good = connect_organization("Gamma C", third_sid)
    original = TwilioCredentials.auth_token

    def auth_token(self: TwilioCredentials) -> Secret:
        if self.connection_id == broken.pk:
            raise RuntimeError("the token cannot be decrypted")
        return original(self)

    monkeypatch.setattr(TwilioCredentials, "auth_token", auth_token)
    rsps.get(daily_url(OTHER_SID), json={"message": "Internal", "status": 500}, status=500)
    mock_usage(
        rsps,
        sms=[usage_record(END, "sms", 3, 3, "0.0237", account_sid=third_sid)],
        account_sid=third_sid,
    )

    assert tasks.refresh_usage_records.delay().get() == 2

    assert figures(good) == {(END, "sms"): (3, 3, Decimal("0.0237"), "USD")}
    assert not UsageDay.objects.filter(connection__in=[broken, failing]).exists()
    assert f"usage refresh of connection {broken.pk} not enqueued" in caplog.text
    assert "twilio usage records sms failed account=" + OTHER_SID in caplog.text
