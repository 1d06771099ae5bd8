"""Pages and answers carrying the inbound webhook URL (it holds a secret key) are never stored."""

from __future__ import annotations

import pytest

from tests import twilio_mocks as tw
from tests.connections.helpers import CENTER, CONNECT, DETAIL, URL, connect, number_body
from tests.tenants.test_cache_headers import assert_no_store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", [CENTER, DETAIL, CONNECT])
def test_connection_center_pages_are_never_stored(personas, path):
    connection = connect(personas)
    response = personas.client("admin").get(path)
    assert response.status_code == 200
    if path == DETAIL:
        assert connection.inbound_key in response.content.decode()
    assert_no_store(response)


def test_the_connection_answers_are_never_stored(personas, rsps):
    connection = connect(personas)
    api = personas.api("admin")

    read = api.get(URL)
    assert read.json()["inbound_webhook_url"].endswith(connection.inbound_key)
    assert_no_store(read)

    tw.happy_local_number(rsps)
    changed = api.put(URL, number_body(), format="json")
    assert changed.status_code == 200, changed.content
    assert_no_store(changed)

    gone = api.delete(URL)
    assert gone.status_code == 200
    assert_no_store(gone)
