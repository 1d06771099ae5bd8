"""``/api/v1/connections/twilio/``: which keys may use it, and the Auth Token never leaks."""

from __future__ import annotations

import pytest
import responses

from connections.models import Connection
from tests import twilio_mocks as tw
from tests.connections.helpers import OTHER_TOKEN, URL, connect, number_body, rows

pytestmark = pytest.mark.django_db


# --- The Auth Token stays secret ------------------------------------------------------------


def test_the_auth_token_never_appears_in_a_response(personas):
    api = personas.api("admin")
    bodies = []
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        bodies.append(api.put(URL, number_body(), format="json").content.decode())
    bodies.append(api.get(URL).content.decode())
    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        bodies.append(
            api.put(URL, number_body(auth_token=OTHER_TOKEN), format="json").content.decode()
        )
    bodies.append(
        api.put(URL, number_body(auth_token="not-a-token"), format="json").content.decode()
    )
    bodies.append(api.delete(URL).content.decode())

    assert len(bodies) == 5
    for body in bodies:
        assert tw.AUTH_TOKEN not in body
        assert OTHER_TOKEN not in body
        assert "not-a-token" not in body


# --- Who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["viewer", "marketer"])
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_admin_keys_use_the_twilio_connection(personas, persona, method):
    connect(personas)
    before = rows()

    with responses.RequestsMock() as rsps:
        api = personas.api(persona)
        if method == "put":
            response = api.put(URL, number_body(phone_number="+14155550111"), format="json")
        else:
            response = getattr(api, method)(URL)
        made = tw.requests_made(rsps)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert made == []
    assert rows() == before


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_admin_and_owner_keys_read_the_connection(personas, persona):
    connect(personas)

    response = personas.api(persona).get(URL)

    assert response.status_code == 200
    assert response.json()["state"] == "connected"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_it_answers_401_without_a_key(client, personas, method):
    connect(personas)
    before = rows()

    with responses.RequestsMock() as rsps:
        if method == "put":
            response = client.put(URL, number_body(), content_type="application/json")
        else:
            response = getattr(client, method)(URL)
        made = tw.requests_made(rsps)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert made == []
    assert rows() == before


def test_another_organizations_key_does_not_see_the_connection(personas):
    connect(personas)

    response = personas.api("outsider").get(URL)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert tw.ACCOUNT_SID not in response.content.decode()


def test_another_organizations_key_cannot_disconnect_it(personas):
    connect(personas)
    before = rows()

    response = personas.api("outsider").delete(URL)

    assert response.status_code == 404
    assert rows() == before


def test_each_organization_sees_only_its_own_connection(personas):
    connection_a = connect(personas, "owner")
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.messaging_service(rsps)
        tw.service_numbers(rsps)
        response = personas.api("outsider").put(
            URL,
            {
                "account_sid": tw.ACCOUNT_SID,
                "auth_token": tw.AUTH_TOKEN,
                "messaging_service_sid": tw.SERVICE_SID,
            },
            format="json",
        )
    assert response.status_code == 200, response.content
    connection_b = Connection.objects.get(organization=personas.other_org)

    a = personas.api("admin").get(URL).json()
    b = personas.api("outsider").get(URL).json()

    assert a["id"] == str(connection_a.public_id)
    assert a["sender_type"] == "local"
    assert b["id"] == str(connection_b.public_id)
    assert b["sender_type"] == "messaging_service"
    assert a["inbound_webhook_url"] != b["inbound_webhook_url"]

    personas.api("outsider").delete(URL)
    assert personas.api("admin").get(URL).json()["state"] == "connected"
    assert personas.api("outsider").get(URL).json()["state"] == "disconnected"
