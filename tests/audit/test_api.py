"""``/api/v1/audit-events/``: admin keys only, the page's filters as parameters, cursor
pagination, the event's shape, read-only."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from tenants.audit.models import AuditEvent
from tenants.models import ApiKey, Role
from tenants.services.api_keys import KEY_PREFIX, _hash
from tests.audit.factories import event

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/"
UTC = datetime.UTC


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, tzinfo=UTC)


def key_client(personas, persona: str) -> APIClient:
    """A key of the persona's role made without the service, so that its creation leaves no
    event among the ones a test lists."""
    membership = personas.membership(persona)
    role = Role.ADMIN if membership.role == Role.OWNER else membership.role
    prefix, secret = f"{persona[:6]:0<12}"[:12], f"secret-of-{persona}-" + "x" * 20
    ApiKey.objects.create(
        organization=membership.organization,
        name=persona,
        role=role,
        prefix=prefix,
        key_hash=_hash(secret),
    )
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {KEY_PREFIX}_{prefix}_{secret}")
    return client


def labels(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["target"]["label"] for item in response.json()["results"]]


def test_an_event_as_the_api_shows_it(personas):
    client = key_client(personas, "admin")
    key = ApiKey.objects.get(name="admin")
    made = event(
        personas.org,
        at=at(2),
        user=personas.owner,
        address="198.51.100.9",
        target_id="6f1c0a52-8f61-4a43-9d38-0a1f5b0f6a11",
    )
    by_key = event(
        personas.org,
        at=at(3),
        action="api_key.revoked",
        actor_type="api_key",
        actor_api_key=key,
        actor_label="API key “admin”",
        target_type="api_key",
        changes={},
    )

    answer = client.get(URL).json()

    assert answer["next"] is None
    assert answer["previous"] is None
    newest, oldest = answer["results"]
    assert oldest == {
        "id": str(made.public_id),
        "at": "2026-03-02T12:00:00Z",
        "action": "member.role_changed",
        "actor": {
            "type": "user",
            "id": str(personas.owner.public_id),
            "label": "owner@a.example.com",
        },
        "address": "198.51.100.9",
        "target": {
            "type": "member",
            "id": "6f1c0a52-8f61-4a43-9d38-0a1f5b0f6a11",
            "label": "viewer@a.example.com",
        },
        "changes": {"role": {"before": "viewer", "after": "marketer"}},
    }
    assert newest["id"] == str(by_key.public_id)
    assert newest["actor"] == {
        "type": "api_key",
        "id": str(key.public_id),
        "label": "API key “admin”",
    }
    assert client.get(f"{URL}{made.public_id}/").json() == oldest


def test_the_operator_has_no_id(personas):
    event(personas.org, at=at(2))

    (only,) = key_client(personas, "admin").get(URL).json()["results"]

    assert only["actor"] == {"type": "operator", "id": None, "label": "operator (command line)"}
    assert only["address"] is None


@pytest.mark.parametrize("persona", ["marketer", "viewer"])
def test_marketer_and_viewer_keys_are_refused(personas, persona):
    made = event(personas.org, at=at(2))
    client = key_client(personas, persona)

    for target in (URL, f"{URL}{made.public_id}/"):
        response = client.get(target)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"


def test_another_organizations_event_is_a_404_and_not_listed(personas):
    theirs = event(personas.other_org, at=at(2), target_label="theirs@b")
    event(personas.org, at=at(3), target_label="ours@a")
    client = key_client(personas, "admin")

    assert labels(client.get(URL)) == ["ours@a"]
    assert client.get(f"{URL}{theirs.public_id}/").status_code == 404
    assert client.get(f"{URL}not-an-id/").status_code == 404


def test_it_is_read_only(personas):
    made = event(personas.org, at=at(2))
    client = key_client(personas, "admin")

    for method in ("post", "put", "patch", "delete"):
        for target in (URL, f"{URL}{made.public_id}/"):
            response = getattr(client, method)(target, {}, format="json")
            assert response.status_code == 405, (method, target)
            assert response.json()["error"]["code"] == "method_not_allowed"
    assert AuditEvent.objects.get().changes == made.changes


def test_filters(personas):
    event(personas.org, at=at(1), user=personas.admin, target_label="first")
    event(personas.org, at=at(2), user=personas.owner, target_label="second")
    event(
        personas.org,
        at=at(3),
        action="automation.paused",
        target_type="automation",
        target_label="third",
    )
    client = key_client(personas, "admin")

    assert labels(client.get(URL, {"action": "automation.paused"})) == ["third"]
    assert labels(client.get(URL, {"actor": str(personas.admin.public_id)})) == ["first"]
    assert labels(client.get(URL, {"actor": "operator"})) == ["third"]
    assert labels(client.get(URL, {"target_type": "member"})) == ["second", "first"]
    assert labels(client.get(URL, {"since": "2026-03-02T12:00:00Z"})) == ["third", "second"]
    assert labels(client.get(URL, {"until": "2026-03-02"})) == ["first"]
    assert labels(
        client.get(URL, {"since": "2026-03-02T07:00:00-05:00", "until": "2026-03-03"})
    ) == ["second"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("action", "nope"),
        ("target_type", "planet"),
        ("actor", "someone"),
        ("since", "yesterday"),
        ("until", "2026-13-40"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(personas, name, value):
    response = key_client(personas, "admin").get(URL, {name: value})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [name]


def test_cursor_pagination_walks_every_event_once(personas):
    for day in range(1, 6):
        event(personas.org, at=at(day), target_label=f"day{day}")
    client = key_client(personas, "admin")

    seen: list[str] = []
    page = client.get(URL, {"limit": 2}).json()
    while True:
        seen += [item["target"]["label"] for item in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()

    assert seen == ["day5", "day4", "day3", "day2", "day1"]
