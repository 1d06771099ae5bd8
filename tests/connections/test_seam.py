"""The Twilio seam: base URLs, timeouts, and one error type with the right class."""

import threading

import pytest
import requests
import responses

from connections import twilio_api, twilio_records
from connections.crypto import Secret
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import ErrorKind, TwilioError
from tests import twilio_mocks as tw


def gateway() -> TwilioGateway:
    return TwilioGateway(tw.ACCOUNT_SID, Secret(tw.AUTH_TOKEN))


@responses.activate
def test_it_calls_the_configured_base_urls(settings):
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:8010"
    settings.TWILIO_MESSAGING_BASE_URL = "http://127.0.0.1:8011"
    responses.get(
        f"http://127.0.0.1:8010/2010-04-01/Accounts/{tw.ACCOUNT_SID}.json", json=tw.load("account")
    )
    responses.get(f"http://127.0.0.1:8011/v1/Services/{tw.SERVICE_SID}", json=tw.service_body())
    assert gateway().fetch_account().status == "active"
    service = gateway().fetch_messaging_service(tw.SERVICE_SID)
    assert service is not None
    assert service.us_a2p_registered is True


@responses.activate
def test_it_ignores_twilio_edge_and_region_from_the_environment(monkeypatch):
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    tw.account(responses.mock)
    gateway().fetch_account()
    assert responses.calls[0].request.url == tw.ACCOUNT_URL


@responses.activate
def test_it_authenticates_with_basic_auth_and_explicit_timeouts(monkeypatch):
    tw.account(responses.mock)
    gateway().fetch_account()
    request = responses.calls[0].request
    assert str(request.headers["Authorization"]).startswith("Basic ")
    assert getattr(request, "req_kwargs", {})["timeout"] == twilio_api.TIMEOUTS


@responses.activate
def test_it_takes_the_environment_proxy_and_ca_bundle_once_per_thread(monkeypatch):
    """requests would read them from os.environ on every call; the seam reads them when a
    thread's client is made, and still honours them."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setattr(twilio_api, "_local", threading.local())
    tw.account(responses.mock)

    gateway().fetch_account()

    kwargs = getattr(responses.calls[0].request, "req_kwargs", {})
    assert kwargs["proxies"]["https"] == "http://proxy.internal:3128"
    assert kwargs["verify"] == "/etc/ssl/company.pem"
    session = twilio_api._http_client().session
    assert session is not None
    assert session.trust_env is False


@responses.activate
def test_it_reads_an_account_into_a_record_without_the_token():
    tw.account(responses.mock, type="Trial")
    account = gateway().fetch_account()
    assert account == twilio_records.Account(
        sid=tw.ACCOUNT_SID, name="Acme Marketing", status="active", type="Trial"
    )
    assert tw.AUTH_TOKEN not in repr(account)


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (401, tw.error(20003, 401, "Authenticate"), ErrorKind.PERMANENT, 20003),
        (
            400,
            tw.error(21211, 400, "The 'To' number +1555 is not a valid phone number."),
            ErrorKind.PERMANENT,
            21211,
        ),
        (
            400,
            tw.error(21610, 400, "Attempt to send to unsubscribed recipient"),
            ErrorKind.PERMANENT,
            21610,
        ),
        (
            400,
            tw.error(
                21611, 400, "This 'From' number has exceeded the maximum number of queued messages"
            ),
            ErrorKind.RETRY,
            21611,
        ),
        (429, tw.error(20429, 429, "Too Many Requests"), ErrorKind.RETRY, 20429),
        (400, tw.error(30999, 400, "Something new"), ErrorKind.PERMANENT, 30999),
        (500, {"message": "Internal Server Error", "status": 500}, ErrorKind.UNKNOWN, None),
        (503, {"message": "Service Unavailable", "status": 503}, ErrorKind.UNKNOWN, None),
    ],
)
@responses.activate
def test_it_classifies_twilio_error_answers(status, body, kind, code):
    responses.get(tw.ACCOUNT_URL, json=body, status=status)
    with pytest.raises(TwilioError) as excinfo:
        gateway().fetch_account()
    error = excinfo.value
    assert (error.kind, error.code, error.status) == (kind, code, status)
    assert error.message


@responses.activate
def test_it_explains_known_codes_in_plain_words():
    responses.get(tw.ACCOUNT_URL, json=tw.error(21610, 400, "unsubscribed"), status=400)
    with pytest.raises(TwilioError) as excinfo:
        gateway().fetch_account()
    assert excinfo.value.message == "The recipient has replied STOP to this sender."
    assert excinfo.value.long_backoff is False


@responses.activate
def test_a_full_queue_asks_for_a_longer_backoff():
    responses.get(tw.ACCOUNT_URL, json=tw.error(21611, 400, "queue full"), status=400)
    with pytest.raises(TwilioError) as excinfo:
        gateway().fetch_account()
    assert excinfo.value.long_backoff is True


@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        (requests.ConnectTimeout("connect timed out"), ErrorKind.RETRY),
        (
            requests.ConnectionError("HTTPSConnectionPool: NewConnectionError: Connection refused"),
            ErrorKind.RETRY,
        ),
        (
            requests.ConnectionError("NameResolutionError: Failed to resolve 'api.twilio.com'"),
            ErrorKind.RETRY,
        ),
        (requests.ReadTimeout("read timed out"), ErrorKind.UNKNOWN),
        (requests.ConnectionError("Connection aborted: RemoteDisconnected"), ErrorKind.UNKNOWN),
    ],
)
@responses.activate
def test_it_classifies_transport_failures(exception, kind):
    responses.get(tw.ACCOUNT_URL, body=exception)
    with pytest.raises(TwilioError) as excinfo:
        gateway().fetch_account()
    assert excinfo.value.kind == kind
    assert excinfo.value.status is None


@responses.activate
def test_an_unknown_messaging_service_is_none():
    tw.messaging_service_missing(responses.mock)
    assert gateway().fetch_messaging_service(tw.SERVICE_SID) is None


@responses.activate
def test_it_finds_a_number_by_its_e164_form():
    tw.incoming_number(responses.mock, sms=False)
    number = gateway().find_incoming_number(tw.NUMBER)
    assert number == twilio_records.IncomingNumber(
        sid=tw.NUMBER_SID,
        phone_number=tw.NUMBER,
        sms=False,
        sms_url="https://demo.twilio.com/welcome/sms/reply",
    )


@responses.activate
def test_it_logs_one_line_per_call_without_secrets(caplog):
    caplog.set_level("INFO")
    tw.account(responses.mock)
    gateway().fetch_account()
    lines = [r.getMessage() for r in caplog.records]
    assert len([line for line in lines if line.startswith("twilio account fetch ok")]) == 1
    assert all(tw.AUTH_TOKEN not in line for line in lines)


def test_the_gateway_repr_shows_no_token():
    assert repr(gateway()) == f"<TwilioGateway {tw.ACCOUNT_SID}>"


def test_only_the_seam_imports_twilio_rest():
    import subprocess

    found = subprocess.run(
        [
            "grep",
            "-rlE",
            r"^\s*(from twilio\.rest|import twilio\.rest)",
            "--include=*.py",
            "config",
            "tenants",
            "connections",
            "contacts",
            "templates_sms",
            "messaging",
            "automations",
            "sandbox",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert found == ["connections/twilio_api.py"]


@responses.activate
def test_a_failed_list_page_is_classified_like_any_answer():
    responses.get(f"{tw.MESSAGING}/Services", json=tw.error(20429, 429, "Too Many"), status=429)
    with pytest.raises(TwilioError) as excinfo:
        list(gateway().iter_messaging_services())
    assert (excinfo.value.kind, excinfo.value.code, excinfo.value.status) == (
        ErrorKind.RETRY,
        20429,
        429,
    )
