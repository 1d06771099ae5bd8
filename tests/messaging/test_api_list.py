"""``GET /api/v1/messages/``: the organization's message log, its filters and its cursor pages."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from tests import twilio_mocks as tw
from tests.messaging.api_helpers import (
    FIELDS,
    MESSAGES,
    OTHER_PHONE,
    PHONE,
    add_contact,
    ids,
    log_entry,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- The log --------------------------------------------------------------------------------


@pytest.fixture
def log(personas: Any) -> dict[str, Any]:
    """A small log of organization A, written at known times, and one message of B."""
    now = timezone.now()
    ada = add_contact(personas.org, PHONE, "Ada")
    bob = add_contact(personas.org, OTHER_PHONE, "Bob")
    entries = {
        "api": log_entry(
            personas.org,
            contact=ada,
            status="delivered",
            source="api",
            source_ref="api-key:abc",
            created_at=now - datetime.timedelta(days=3),
        ),
        "ui": log_entry(
            personas.org,
            contact=bob,
            to=OTHER_PHONE,
            status="failed",
            source="ui",
            source_ref="user:1",
            created_at=now - datetime.timedelta(days=2),
        ),
        "automation": log_entry(
            personas.org,
            contact=ada,
            status="pending",
            source="automation",
            source_ref="automation-7",
            created_at=now - datetime.timedelta(days=1),
        ),
        "inbound": log_entry(
            personas.org,
            contact=bob,
            to=tw.NUMBER,
            from_number=OTHER_PHONE,
            direction="inbound",
            status="received",
            source="inbound",
            created_at=now - datetime.timedelta(hours=1),
        ),
    }
    theirs = log_entry(personas.other_org, status="delivered", source="api")
    return {"now": now, "ada": ada, "bob": bob, "entries": entries, "theirs": theirs}


def names(log: dict[str, Any], response: Any) -> list[str]:
    by_id = {str(m.public_id): name for name, m in log["entries"].items()}
    by_id[str(log["theirs"].public_id)] = "theirs"
    return [by_id.get(row_id, row_id) for row_id in ids(response)]


def test_it_lists_the_organizations_messages_newest_first(personas, log):
    response = personas.api("viewer").get(MESSAGES)

    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == {"results", "next", "previous"}
    assert data["next"] is None
    assert data["previous"] is None
    assert names(log, response) == ["inbound", "automation", "ui", "api"]
    assert all(set(row) == FIELDS for row in data["results"])
    inbound = data["results"][0]
    assert inbound["direction"] == "inbound"
    assert inbound["from"] == OTHER_PHONE
    assert inbound["contact"] == str(log["bob"].public_id)


def test_it_never_shows_one_organization_the_messages_of_another(personas, log):
    response = personas.api("outsider").get(MESSAGES)

    assert response.status_code == 200, response.content
    assert names(log, response) == ["theirs"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "delivered"}, ["api"]),
        ({"status": "received"}, ["inbound"]),
        ({"direction": "inbound"}, ["inbound"]),
        ({"direction": "outbound"}, ["automation", "ui", "api"]),
        ({"source": "ui"}, ["ui"]),
        ({"source": "automation", "source_ref": "automation-7"}, ["automation"]),
        ({"source_ref": "automation-8"}, []),
        ({"status": "failed", "source": "api"}, []),
    ],
)
def test_it_filters_the_log(personas, log, params, expected):
    response = personas.api("viewer").get(MESSAGES, params)

    assert response.status_code == 200, response.content
    assert names(log, response) == expected


def test_it_filters_the_log_by_contact(personas, log):
    response = personas.api("viewer").get(MESSAGES, {"contact": str(log["ada"].public_id)})

    assert response.status_code == 200, response.content
    assert names(log, response) == ["automation", "api"]


def test_it_answers_404_for_a_contact_filter_of_another_organization(personas, log):
    theirs = add_contact(personas.other_org)

    response = personas.api("viewer").get(MESSAGES, {"contact": str(theirs.public_id)})

    assert response.status_code == 404, response.content


@pytest.mark.parametrize(
    ("after_days", "before_days", "expected"),
    [
        (2.5, None, ["inbound", "automation", "ui"]),
        (None, 1.5, ["ui", "api"]),
        (2.5, 0.5, ["automation", "ui"]),
        (None, 4, []),
    ],
)
def test_it_filters_the_log_by_creation_time(personas, log, after_days, before_days, expected):
    params = {}
    if after_days is not None:
        params["created_after"] = (log["now"] - datetime.timedelta(days=after_days)).isoformat()
    if before_days is not None:
        params["created_before"] = (log["now"] - datetime.timedelta(days=before_days)).isoformat()

    response = personas.api("viewer").get(MESSAGES, params)

    assert response.status_code == 200, response.content
    assert names(log, response) == expected


def test_it_pages_through_the_log_with_cursors(personas):
    now = timezone.now()
    made = [
        log_entry(personas.org, body=f"n{i}", created_at=now - datetime.timedelta(minutes=i))
        for i in range(5)
    ]
    api = personas.api("viewer")

    first = api.get(MESSAGES, {"limit": 2})
    assert first.status_code == 200, first.content
    assert first.json()["previous"] is None
    assert first.json()["next"]
    second = api.get(first.json()["next"])
    assert second.json()["previous"]
    assert second.json()["next"]
    third = api.get(second.json()["next"])
    assert third.json()["next"] is None
    back = api.get(second.json()["previous"])

    assert ids(first) + ids(second) + ids(third) == [str(m.public_id) for m in made]
    assert ids(back) == ids(first)
