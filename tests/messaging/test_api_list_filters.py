"""``GET /api/v1/messages/`` and the message log page filter through one selector: the same
filters list the same messages, and the API keeps its own parameters and answers."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from contacts.models import Contact
from contacts.services.contacts import contact_create
from messaging.models import Direction, Status
from tests.messaging.api_helpers import MESSAGES
from tests.messaging.log.helpers import LOG, NOON, add, bodies

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(personas: Any) -> Contact:
    return contact_create(
        organization=personas.org, phone="+14155550123", first_name="Ada", source="ui"
    )


@pytest.fixture
def sample(personas: Any, ada: Contact) -> None:
    """Five messages of organization A, newest first (a … e), and one of B."""
    org = personas.org

    def at(minutes: int) -> datetime.datetime:
        return NOON - datetime.timedelta(minutes=minutes)

    add(org, "a", at=at(1), contact=ada, source="api", source_ref="api-key:abc")
    add(org, "b", at=at(2), status=Status.FAILED, contact=ada, source="ui")
    add(
        org,
        "c",
        at=at(3),
        status=Status.RECEIVED,
        direction=Direction.INBOUND,
        contact=ada,
        from_number=ada.phone,
        source="inbound",
    )
    add(org, "d", at=at(4), source="automation", source_ref="automation-7")
    add(org, "e", at=at(5), status=Status.FAILED, source="api")
    add(personas.other_org, "theirs", at=at(1), status=Status.FAILED, contact=None)


def api_bodies(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["body"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["a", "b", "c", "d", "e"]),
        ({"status": "failed"}, ["b", "e"]),
        ({"direction": "inbound"}, ["c"]),
        ({"direction": "outbound", "status": "failed"}, ["b", "e"]),
        ({"status": "received", "direction": "outbound"}, []),
    ],
)
def test_it_lists_what_the_log_page_lists_for_the_same_filters(personas, sample, params, expected):
    page = personas.client("viewer").get(LOG, params)
    api = personas.api("viewer").get(MESSAGES, params)

    assert bodies(page) == expected
    assert api_bodies(api) == expected


def test_it_lists_a_contacts_messages_as_the_log_page_does(personas, sample, ada):
    params = {"contact": str(ada.public_id)}

    page = personas.client("viewer").get(LOG, params)
    api = personas.api("viewer").get(MESSAGES, params)

    assert bodies(page) == api_bodies(api) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"source": "api"}, ["a", "e"]),
        ({"source": "api", "source_ref": "api-key:abc"}, ["a"]),
        ({"source_ref": "automation-7"}, ["d"]),
        ({"source": "", "status": ""}, ["a", "b", "c", "d", "e"]),
        ({"status": "no-such-status"}, []),
        ({"created_after": (NOON - datetime.timedelta(minutes=3)).isoformat()}, ["a", "b", "c"]),
        ({"created_before": (NOON - datetime.timedelta(minutes=3)).isoformat()}, ["d", "e"]),
        (
            {
                "created_after": "2024-03-04T11:56:00+00:00",
                "created_before": "2024-03-04T07:59:00-04:00",
            },
            ["b", "c", "d"],
        ),
    ],
)
def test_it_filters_by_the_apis_own_parameters(personas, sample, params, expected):
    assert api_bodies(personas.api("viewer").get(MESSAGES, params)) == expected


@pytest.mark.parametrize("name", ["created_after", "created_before"])
@pytest.mark.parametrize(
    "value", ["yesterday", "2024-13-01T00:00:00Z", "0001-01-01T00:00:00+14:00"]
)
def test_it_answers_400_in_the_apis_shape_for_a_time_it_cannot_read(personas, sample, name, value):
    response = personas.api("viewer").get(MESSAGES, {name: value})

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"]


@pytest.mark.parametrize("contact", ["not-a-uuid", "3f1d7a52-9b0e-4c6a-8e21-5d4f0a7b9c13"])
def test_it_answers_404_for_a_contact_it_does_not_know(personas, sample, contact):
    response = personas.api("viewer").get(MESSAGES, {"contact": contact})

    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"
