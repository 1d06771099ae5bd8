"""The Connection Center pages: the catalog, connecting Twilio and looking after it."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import responses

from connections.models import Connection, TwilioCredentials
from tests import twilio_mocks as tw
from tests.connections.helpers import connect, credentials_of, rows
from tests.factories import page_text

pytestmark = pytest.mark.django_db

CENTER = "/connections/"
DETAIL = "/connections/twilio/"
CONNECT = "/connections/twilio/connect/"
VERIFY = "/connections/twilio/verify/"
CONFIGURE = "/connections/twilio/configure-number/"
SEND_RATE = "/connections/twilio/send-rate/"
ROTATE = "/connections/twilio/rotate-key/"
DISCONNECT = "/connections/twilio/disconnect/"

WEBHOOK_PREFIX = "https://hub.example.com/webhooks/twilio/inbound/"
CONNECTED_MESSAGE = "You have successfully connected your Twilio account."
BAD_KEYS = "Account SID or Auth Token is wrong."
NUMBER_UPDATE_URL = f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/IncomingPhoneNumbers/{tw.NUMBER_SID}.json"

FORM = {
    "account_sid": tw.ACCOUNT_SID,
    "auth_token": tw.AUTH_TOKEN,
    "phone_number": "(415) 555-0100",
    "messaging_service_sid": "",
}


def connection_of(organization) -> Connection:
    return Connection.objects.get(organization=organization)


def follow(client, response) -> str:
    """The text of the page a redirect leads to."""
    assert response.status_code == 302, response.content
    return page_text(client.get(response["Location"]))


# --- The catalog ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_it_offers_admins_to_connect_twilio(personas, persona):
    response = personas.client(persona).get(CENTER)

    assert response.status_code == 200
    text = page_text(response)
    assert "Twilio SMS" in text
    assert "Not connected" in text
    assert "Connect to Twilio" in text
    assert f'href="{CONNECT}"' in text
    assert "An admin of your organization can connect it." not in text


@pytest.mark.parametrize("persona", ["viewer", "marketer"])
def test_it_tells_other_members_that_an_admin_can_connect(personas, persona):
    response = personas.client(persona).get(CENTER)

    assert response.status_code == 200
    text = page_text(response)
    assert "Twilio SMS" in text
    assert "Not connected" in text
    assert "Connect to Twilio" not in text
    assert f'href="{CONNECT}"' not in text
    assert "An admin of your organization can connect it." in text


def test_it_shows_a_connected_twilio_in_the_center(personas):
    connect(personas)

    text = page_text(personas.client("viewer").get(CENTER))

    assert "Connected" in text
    assert "Not connected" not in text
    assert f'href="{DETAIL}"' in text
    assert "warning" not in text


# --- Connecting -----------------------------------------------------------------------------


def test_it_shows_the_connect_form_to_an_admin(personas):
    response = personas.client("admin").get(CONNECT)

    assert response.status_code == 200
    text = page_text(response)
    assert 'name="account_sid"' in text
    assert 'name="auth_token"' in text
    assert 'name="phone_number"' in text
    assert 'name="messaging_service_sid"' in text
    assert "Use the same format shown in the Active numbers of your Twilio account" in text


def test_an_admin_without_a_connection_is_sent_to_the_connect_form(personas):
    response = personas.client("admin").get(DETAIL)

    assert response.status_code == 302
    assert response["Location"] == CONNECT


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_it_connects_twilio_from_the_form(personas, persona):
    client = personas.client(persona)
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = client.post(CONNECT, FORM)

    assert response.status_code == 302
    assert response["Location"] == DETAIL
    connection = connection_of(personas.org)
    assert connection.state == "connected"
    assert connection.verified_at is not None
    credentials = credentials_of(personas.org)
    assert credentials.account_sid == tw.ACCOUNT_SID
    assert credentials.phone_number == "+14155550100"
    assert credentials.phone_number_sid == tw.NUMBER_SID
    assert credentials.sender_type == "local"
    assert credentials.compliance_state == "registered"
    assert credentials.send_rate == Decimal("1.00")
    assert credentials.auth_token_last4 == tw.AUTH_TOKEN[-4:]
    assert credentials.auth_token_encrypted != tw.AUTH_TOKEN
    assert tw.AUTH_TOKEN not in credentials.auth_token_encrypted

    detail = client.get(DETAIL)
    text = page_text(detail)
    assert detail.status_code == 200
    assert CONNECTED_MESSAGE in text
    assert f"{WEBHOOK_PREFIX}{connection.inbound_key}" in text
    assert tw.ACCOUNT_SID in text
    assert f"…{tw.AUTH_TOKEN[-4:]}" in text
    assert "Re-verify" in text
    assert "Disconnect Twilio" in text
    assert "Not registered for A2P 10DLC" not in text


def test_it_refuses_keys_twilio_does_not_accept(personas):
    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        response = personas.client("admin").post(CONNECT, FORM)
        made = tw.requests_made(rsps)

    assert response.status_code == 400
    text = page_text(response)
    assert BAD_KEYS in text
    assert tw.AUTH_TOKEN not in text
    assert made == [f"GET /2010-04-01/Accounts/{tw.ACCOUNT_SID}.json"]
    assert rows() == ([], [])


def test_it_refuses_a_malformed_account_sid_without_asking_twilio(personas):
    with responses.RequestsMock() as rsps:
        response = personas.client("admin").post(CONNECT, {**FORM, "account_sid": "ACxyz"})
        made = tw.requests_made(rsps)

    assert response.status_code == 400
    text = page_text(response)
    assert "An Account SID is AC followed by 32 letters and digits" in text
    assert tw.AUTH_TOKEN not in text
    assert 'value="ACxyz"' in text
    assert made == []
    assert rows() == ([], [])


def test_it_refuses_a_number_that_is_not_in_the_account(personas):
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.incoming_number(rsps, found=False)
        response = personas.client("admin").post(CONNECT, FORM)

    assert response.status_code == 400
    text = page_text(response)
    assert "+14155550100 is not a number of this Twilio account" in text
    assert tw.AUTH_TOKEN not in text
    assert rows() == ([], [])


def test_it_keeps_the_stored_token_when_the_form_leaves_it_empty(personas):
    connect(personas)
    client = personas.client("admin")
    form = page_text(client.get(CONNECT))
    assert f'value="{tw.ACCOUNT_SID}"' in form
    assert f"Stored token ends in <code>…{tw.AUTH_TOKEN[-4:]}</code>" in form
    assert tw.AUTH_TOKEN not in form

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = client.post(CONNECT, {**FORM, "auth_token": ""})

    assert response.status_code == 302
    assert credentials_of(personas.org).auth_token().reveal() == tw.AUTH_TOKEN


def test_it_asks_for_the_token_when_the_account_changes(personas):
    connect(personas)
    before = rows()

    with responses.RequestsMock() as rsps:
        response = personas.client("admin").post(
            CONNECT, {**FORM, "account_sid": "AC" + "1" * 32, "auth_token": ""}
        )
        made = tw.requests_made(rsps)

    assert response.status_code == 400
    assert "Enter the Auth Token" in page_text(response)
    assert made == []
    assert rows() == before


def test_it_warns_about_a_number_not_registered_for_10dlc(personas):
    client = personas.client("admin")
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps, registered=False)
        response = client.post(CONNECT, FORM)

    assert response.status_code == 302
    assert credentials_of(personas.org).compliance_state == "unregistered"
    detail = page_text(client.get(DETAIL))
    assert "Not registered for A2P 10DLC" in detail
    assert 'data-warning="a2p_10dlc_unregistered"' in detail
    center = page_text(client.get(CENTER))
    assert "1 warning" in center
    assert "1 warnings" not in center


# --- Looking after it -----------------------------------------------------------------------


def test_re_verify_marks_a_refused_account_failing_and_then_connected_again(personas):
    connect(personas)
    client = personas.client("admin")

    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        response = client.post(VERIFY)

    assert response.status_code == 302
    assert response["Location"] == DETAIL
    connection = connection_of(personas.org)
    assert connection.state == "failing"
    assert BAD_KEYS in connection.last_error
    text = page_text(client.get(DETAIL))
    assert 'data-warning="connection_failing"' in text
    assert f"Twilio refused the last request: {BAD_KEYS}" in text
    assert "Failing" in text
    assert credentials_of(personas.org).auth_token().reveal() == tw.AUTH_TOKEN

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = client.post(VERIFY)

    connection.refresh_from_db()
    assert connection.state == "connected"
    assert connection.last_error == ""
    text = follow(client, response)
    assert "Twilio confirmed the account and the sender." in text
    assert 'data-warning="connection_failing"' not in text


def test_it_configures_the_number_to_send_replies_here(personas):
    connection = connect(personas)
    entry = tw.load("incoming_phone_numbers")["incoming_phone_numbers"][0]
    client = personas.client("admin")

    with responses.RequestsMock() as rsps:
        rsps.post(NUMBER_UPDATE_URL, json=entry)
        response = client.post(CONFIGURE)
        made = tw.requests_made(rsps)
        body = rsps.calls[0].request.body

    webhook_url = f"{WEBHOOK_PREFIX}{connection.inbound_key}"
    assert made == [
        f"POST /2010-04-01/Accounts/{tw.ACCOUNT_SID}/IncomingPhoneNumbers/{tw.NUMBER_SID}.json"
    ]
    text_body = body.decode() if isinstance(body, bytes) else str(body)
    assert parse_qs(text_body) == {"SmsUrl": [webhook_url], "SmsMethod": ["POST"]}
    text = follow(client, response)
    assert f"Replies to your number now come to SMS Hub ({webhook_url})." in text


def test_it_rotates_the_inbound_webhook_url(personas):
    connection = connect(personas)
    old_url = f"{WEBHOOK_PREFIX}{connection.inbound_key}"
    client = personas.client("admin")

    confirm = client.get(ROTATE)
    assert confirm.status_code == 200
    assert "Rotate the inbound webhook URL?" in page_text(confirm)
    assert connection_of(personas.org).inbound_key == connection.inbound_key

    response = client.post(ROTATE)

    new_key = connection_of(personas.org).inbound_key
    assert new_key != connection.inbound_key
    text = follow(client, response)
    assert old_url not in text
    assert f"{WEBHOOK_PREFIX}{new_key}" in text
    assert "The inbound webhook URL changed." in text


def test_it_disconnects_and_reconnects_with_the_same_row_and_url(personas):
    connection = connect(personas)
    client = personas.client("admin")

    confirm = client.get(DISCONNECT)
    assert confirm.status_code == 200
    assert "Disconnect Twilio?" in page_text(confirm)
    assert connection_of(personas.org).state == "connected"

    response = client.post(DISCONNECT)

    assert response.status_code == 302
    assert response["Location"] == DETAIL
    kept = connection_of(personas.org)
    assert kept.pk == connection.pk
    assert kept.state == "disconnected"
    assert TwilioCredentials.objects.count() == 0
    text = follow(client, response)
    assert "Twilio is disconnected and its credentials are erased." in text
    assert "Re-verify" not in text
    assert "Disconnect Twilio" not in text
    assert "Reconnect" in page_text(client.get(CENTER))

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = client.post(CONNECT, FORM)

    assert response.status_code == 302
    again = connection_of(personas.org)
    assert Connection.objects.count() == 1
    assert again.pk == connection.pk
    assert again.state == "connected"
    assert again.inbound_key == connection.inbound_key
    assert credentials_of(personas.org).phone_number == tw.NUMBER
    assert f"{WEBHOOK_PREFIX}{connection.inbound_key}" in page_text(client.get(DETAIL))


def test_it_saves_a_send_rate(personas):
    connect(personas)
    client = personas.client("admin")

    response = client.post(SEND_RATE, {"send_rate": "2.5"})

    assert credentials_of(personas.org).send_rate == Decimal("2.50")
    text = follow(client, response)
    assert "Send rate set to 2.5 segments per second." in text
    assert "2.5 segments per second" in text


@pytest.mark.parametrize("rate", ["0", "", "fast"])
def test_it_refuses_a_send_rate_that_is_not_positive(personas, rate):
    connect(personas)
    before = rows()
    client = personas.client("admin")

    response = client.post(SEND_RATE, {"send_rate": rate})

    assert rows() == before
    text = follow(client, response)
    assert 'class="flash-item flash-error"' in text
    assert "Send rate set" not in text


def test_it_names_the_lowest_send_rate(personas):
    connect(personas)
    client = personas.client("admin")

    response = client.post(SEND_RATE, {"send_rate": "0"})

    assert "greater than or equal to 0.1" in follow(client, response)
    assert credentials_of(personas.org).send_rate == Decimal("1.00")


# --- Who may --------------------------------------------------------------------------------

WRITES = [
    ("get", CONNECT),
    ("post", CONNECT),
    ("post", VERIFY),
    ("post", CONFIGURE),
    ("post", SEND_RATE),
    ("get", ROTATE),
    ("post", ROTATE),
    ("get", DISCONNECT),
    ("post", DISCONNECT),
]
POSTED = {SEND_RATE: {"send_rate": "5"}, CONNECT: {**FORM, "phone_number": "+14155550111"}}


@pytest.mark.parametrize("persona", ["marketer", "viewer"])
@pytest.mark.parametrize(("method", "path"), WRITES)
def test_only_admins_change_the_connection(personas, persona, method, path):
    connect(personas)
    before = rows()
    client = personas.client(persona)

    with responses.RequestsMock() as rsps:
        send = client.post if method == "post" else client.get
        response = send(path, POSTED.get(path, {}))
        made = tw.requests_made(rsps)

    assert response.status_code == 403
    assert made == []
    assert rows() == before


@pytest.mark.parametrize("persona", ["marketer", "viewer"])
def test_other_members_read_the_connection_without_write_buttons(personas, persona):
    connection = connect(personas)

    response = personas.client(persona).get(DETAIL)

    assert response.status_code == 200
    text = page_text(response)
    assert "Twilio SMS" in text
    assert "Connected" in text
    assert tw.ACCOUNT_SID in text
    assert f"{WEBHOOK_PREFIX}{connection.inbound_key}" in text
    for write in (
        "Disconnect Twilio",
        "Re-verify",
        "Configure the number for me",
        "Rotate URL",
        "Change details",
        "Save rate",
        f'action="{VERIFY}"',
        f'href="{CONNECT}"',
    ):
        assert write not in text


def test_a_viewer_sees_that_twilio_is_not_connected(personas):
    response = personas.client("viewer").get(DETAIL)

    assert response.status_code == 200
    assert "Twilio is not connected" in page_text(response)


PAGES = [CENTER, DETAIL, CONNECT, VERIFY, CONFIGURE, SEND_RATE, ROTATE, DISCONNECT]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client, personas, path, method):
    connect(personas)
    before = rows()

    with responses.RequestsMock() as rsps:
        response = getattr(client, method)(path)
        made = tw.requests_made(rsps)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"
    assert made == []
    assert rows() == before


def test_each_organization_sees_only_its_own_connection(personas):
    connection_a = connect(personas, "owner")
    outsider = personas.client("outsider")

    assert "Not connected" in page_text(outsider.get(CENTER))
    response = outsider.get(DETAIL)
    assert response.status_code == 302
    assert response["Location"] == CONNECT
    form = page_text(outsider.get(CONNECT))
    assert tw.ACCOUNT_SID not in form
    assert "Stored token ends in" not in form

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps, registered=False)
        assert outsider.post(CONNECT, FORM).status_code == 302
    connection_b = connection_of(personas.other_org)
    assert connection_b.pk != connection_a.pk

    text_a = page_text(personas.client("admin").get(DETAIL))
    text_b = page_text(outsider.get(DETAIL))
    assert f"{WEBHOOK_PREFIX}{connection_a.inbound_key}" in text_a
    assert connection_b.inbound_key not in text_a
    assert "Not registered for A2P 10DLC" not in text_a
    assert f"{WEBHOOK_PREFIX}{connection_b.inbound_key}" in text_b
    assert connection_a.inbound_key not in text_b
    assert "Not registered for A2P 10DLC" in text_b

    assert outsider.post(DISCONNECT).status_code == 302
    assert connection_of(personas.other_org).state == "disconnected"
    assert connection_of(personas.org).state == "connected"
    assert credentials_of(personas.org).phone_number == tw.NUMBER


# --- The Auth Token stays secret ------------------------------------------------------------


def test_the_auth_token_never_appears_in_a_page(personas):
    client = personas.client("admin")
    bodies: list[str] = []

    def keep(response) -> None:
        bodies.append(response.content.decode())

    keep(client.get(CENTER))
    keep(client.get(CONNECT))
    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        keep(client.post(CONNECT, FORM))
    with responses.RequestsMock() as rsps:
        keep(client.post(CONNECT, {**FORM, "phone_number": "not a number"}))
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps, registered=False)
        keep(client.post(CONNECT, FORM, follow=True))
    keep(client.get(DETAIL))
    keep(client.get(CONNECT))
    keep(client.get(CENTER))
    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        keep(client.post(VERIFY, follow=True))
    keep(client.get(ROTATE))
    keep(client.post(ROTATE, follow=True))
    keep(client.post(SEND_RATE, {"send_rate": "0"}, follow=True))
    keep(client.get(DISCONNECT))
    keep(client.post(DISCONNECT, follow=True))
    keep(personas.client("viewer").get(DETAIL))

    assert len(bodies) == 15
    assert all(body for body in bodies)
    for body in bodies:
        assert tw.AUTH_TOKEN not in body
