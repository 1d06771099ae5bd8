"""Who may read and change the Connection Center pages, and the Auth Token never shows."""

from __future__ import annotations

import pytest
import responses

from tests import twilio_mocks as tw
from tests.connections.helpers import (
    CENTER,
    CONFIGURE,
    CONNECT,
    DETAIL,
    DISCONNECT,
    FORM,
    ROTATE,
    SEND_RATE,
    VERIFY,
    WEBHOOK_PREFIX,
    connect,
    connection_of,
    credentials_of,
    rows,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db


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
