"""The Twilio seam's message reads, for the sweeper: list to a number, fetch by SID."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import requests
import responses

from connections.crypto import Secret
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import ErrorKind, TwilioError
from connections.twilio_records import MessageRecord
from tests import twilio_mocks as tw
from tests.messaging.helpers import MESSAGES_URL, message_json

ALICE = "+14155550123"
SID = "SM" + "a" * 32
OTHER_SID = "SM" + "b" * 32
CREATED = datetime.datetime(2026, 4, 1, 11, 54, 5, tzinfo=datetime.UTC)
MESSAGES_PATH = f"/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Messages"
FETCH_URL = f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/Messages/{SID}.json"


def gateway() -> TwilioGateway:
    return TwilioGateway(tw.ACCOUNT_SID, Secret(tw.AUTH_TOKEN))


def page(*found: dict[str, Any], next_page: bool = False) -> dict[str, Any]:
    """Twilio's answer to ``GET .../Messages.json`` (the list key is ``messages``)."""
    uri = f"{MESSAGES_PATH}.json?To=%2B14155550123&PageSize=50&Page=0"
    return {
        "messages": list(found),
        "first_page_uri": uri,
        "next_page_uri": f"{MESSAGES_PATH}.json?PageSize=50&Page=1" if next_page else None,
        "page": 0,
        "page_size": 50,
        "previous_page_uri": None,
        "uri": uri,
        "start": 0,
        "end": max(len(found) - 1, 0),
    }


def undelivered() -> dict[str, Any]:
    body = message_json(
        to=ALICE,
        body="Hi",
        sid=SID,
        status="undelivered",
        messaging_service_sid=tw.SERVICE_SID,
        created=CREATED,
    )
    body.update(error_code=30003, error_message="Unreachable destination handset")
    return body


UNDELIVERED = MessageRecord(
    sid=SID,
    to=ALICE,
    from_=tw.NUMBER,
    messaging_service_sid=tw.SERVICE_SID,
    body="Hi",
    status="undelivered",
    error_code=30003,
    error_message="Unreachable destination handset",
    date_created=CREATED,
)


# --- list_messages ---------------------------------------------------------------------------


def test_list_messages_asks_for_the_number_and_sender_newest_fifty_without_a_date(rsps):
    rsps.get(MESSAGES_URL, json=page())
    assert gateway().list_messages(to=ALICE, from_=tw.NUMBER) == []
    assert tw.requests_made(rsps) == [
        f"GET {MESSAGES_PATH}.json?To=%2B14155550123&From=%2B14155550100&PageSize=50"
    ]


def test_list_messages_without_a_sender_sends_no_from(rsps):
    rsps.get(MESSAGES_URL, json=page())
    gateway().list_messages(to=ALICE, from_="")
    assert tw.requests_made(rsps) == [f"GET {MESSAGES_PATH}.json?To=%2B14155550123&PageSize=50"]


def test_list_messages_reads_each_message_into_a_record(rsps):
    queued = message_json(
        to=ALICE, body="Hello", sid=OTHER_SID, from_=None, status="accepted", created=CREATED
    )
    rsps.get(MESSAGES_URL, json=page(undelivered(), queued))

    found = gateway().list_messages(to=ALICE, from_=tw.NUMBER)

    assert found == [
        UNDELIVERED,
        MessageRecord(
            sid=OTHER_SID,
            to=ALICE,
            from_="",
            messaging_service_sid="",
            body="Hello",
            status="accepted",
            error_code=None,
            error_message="",
            date_created=CREATED,
        ),
    ]
    assert found[0].date_created is not None
    assert found[0].date_created.utcoffset() == datetime.timedelta(0)


def test_list_messages_stops_at_fifty_even_when_twilio_has_more(rsps):
    many = [
        message_json(to=ALICE, body=f"Hi {n}", sid=f"SM{n:032d}", created=CREATED)
        for n in range(50)
    ]
    rsps.get(MESSAGES_URL, json=page(*many, next_page=True))

    found = gateway().list_messages(to=ALICE, from_=tw.NUMBER)

    assert len(found) == 50
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    ("answer", "kind", "status"),
    [
        ({"json": tw.error(20500, 500, "Internal Server Error"), "status": 500}, "unknown", 500),
        ({"json": tw.error(20429, 429, "Too Many Requests"), "status": 429}, "retry", 429),
        ({"json": tw.load("error_20003"), "status": 401}, "permanent", 401),
        (
            {"body": requests.ConnectionError("NewConnectionError: Connection refused")},
            "retry",
            None,
        ),
        ({"body": requests.ReadTimeout("Read timed out.")}, "unknown", None),
    ],
    ids=["HTTP 500", "HTTP 429", "HTTP 401", "connection refused", "read timeout"],
)
def test_a_failed_list_raises_a_classified_twilio_error(rsps, answer, kind, status):
    rsps.get(MESSAGES_URL, **answer)
    with pytest.raises(TwilioError) as excinfo:
        gateway().list_messages(to=ALICE, from_=tw.NUMBER)
    assert (excinfo.value.kind, excinfo.value.status) == (ErrorKind(kind), status)


# --- fetch_message ---------------------------------------------------------------------------


def test_fetch_message_reads_the_message_by_its_sid(rsps):
    rsps.get(FETCH_URL, json=undelivered())
    assert gateway().fetch_message(SID) == UNDELIVERED
    assert tw.requests_made(rsps) == [f"GET {MESSAGES_PATH}/{SID}.json"]


def test_fetch_message_is_none_when_twilio_has_no_such_message(rsps):
    rsps.get(FETCH_URL, json=tw.load("error_20404"), status=404)
    assert gateway().fetch_message(SID) is None


def test_fetch_message_raises_an_unknown_error_on_a_5xx(rsps):
    rsps.get(FETCH_URL, json=tw.error(20500, 500, "Internal Server Error"), status=500)
    with pytest.raises(TwilioError) as excinfo:
        gateway().fetch_message(SID)
    assert (excinfo.value.kind, excinfo.value.code, excinfo.value.status) == (
        ErrorKind.UNKNOWN,
        20500,
        500,
    )


def test_fetch_message_raises_a_retry_error_when_twilio_cannot_be_reached(rsps):
    rsps.get(
        FETCH_URL,
        body=requests.ConnectionError(
            "HTTPSConnectionPool(host='api.twilio.com', port=443): Max retries exceeded "
            "(Caused by NewConnectionError: [Errno 111] Connection refused)"
        ),
    )
    with pytest.raises(TwilioError) as excinfo:
        gateway().fetch_message(SID)
    assert (excinfo.value.kind, excinfo.value.status) == (ErrorKind.RETRY, None)
    assert excinfo.value.message == "Twilio could not be reached."


@responses.activate
def test_fetch_message_refused_keys_are_an_authentication_failure():
    responses.get(FETCH_URL, json=tw.load("error_20003"), status=401)
    with pytest.raises(TwilioError) as excinfo:
        gateway().fetch_message(SID)
    assert excinfo.value.kind is ErrorKind.PERMANENT
    assert excinfo.value.is_authentication_failure
