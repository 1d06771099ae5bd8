"""The API's rate limit per key: a burst of 100, then 20 a second, or the organization's own.

The limiter reads ``time.time`` in ``tenants.api_ratelimit``; these tests replace that clock,
so they are exact and never sleep. They run on whatever ``REDIS_URL`` says (Redis under CI,
the in-process budgets otherwise); ``test_ratelimit_shared.py`` proves the sharing itself.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from contacts.models import Contact
from tenants import api_ratelimit, ratelimit
from tenants.api_base import OrganizationAPIView
from tenants.models import ApiKey, Organization, Role
from tenants.ratelimit import Gcra
from tenants.services.api_keys import api_key_create, api_key_revoke
from tests.factories import page_text, settings_data

pytestmark = pytest.mark.django_db

BASE = 1_700_000_000.0
ORGANIZATION = "/api/v1/organization/"
CONTACTS = "/api/v1/contacts/"
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


class FakeTime:
    def __init__(self, now: float = BASE) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(api_ratelimit, "time", fake)
    return fake


def key(organization: Organization, role: str = Role.ADMIN) -> tuple[ApiKey, APIClient]:
    api_key, raw = api_key_create(organization=organization, name=f"{role} key", role=role)
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api_key, client


def limits(response: Any) -> tuple[int, int, int]:
    return tuple(int(response[name]) for name in HEADERS)  # type: ignore[return-value]


def burst(client: APIClient, count: int) -> list[Any]:
    return [client.get(ORGANIZATION) for _ in range(count)]


# --- The headers ----------------------------------------------------------------------------


def test_every_answer_to_a_valid_key_says_where_its_budget_stands(personas, clock):
    """200, 201, 400, 403, 404 (an object, an endpoint), 405, 413 and a streamed CSV: each
    counts one request and carries the three headers."""
    too_large = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    _admin_key, admin = key(personas.org)
    _viewer_key, viewer = key(personas.org, Role.VIEWER)
    asked = [
        (admin.get(ORGANIZATION), 200),
        (admin.post(CONTACTS, {"phone": "+14155550123"}, format="json"), 201),
        (admin.post(CONTACTS, {"phone": "not a number"}, format="json"), 400),
        (admin.get(f"{CONTACTS}{uuid.uuid4()}/"), 404),
        (admin.get("/api/v1/no-such-endpoint/"), 404),
        (admin.post(ORGANIZATION, {}, format="json"), 405),
        (admin.get(f"{CONTACTS}export.csv"), 200),
        (admin.post(CONTACTS, {"first_name": "x" * too_large}, format="json"), 413),
    ]

    for n, (response, status) in enumerate(asked, start=1):
        assert response.status_code == status
        # 20 a second: each request holds the budget 0.05 s, so it is whole again within 1 s.
        assert limits(response) == (100, 100 - n, 1)

    forbidden = viewer.post(CONTACTS, {"phone": "+14155550124"}, format="json")
    assert forbidden.status_code == 403
    assert limits(forbidden) == (100, 99, 1)  # the viewer key's own budget


def test_reset_counts_the_whole_seconds_until_the_budget_is_whole(personas, clock):
    personas.org.api_rate_limit, personas.org.api_burst = 2, 10
    personas.org.save()
    _api_key, client = key(personas.org)

    answers = burst(client, 5)

    # Each request holds the budget 0.5 s: after five, it is whole again in 2.5 s, rounded up.
    assert [limits(r) for r in answers] == [
        (10, 9, 1),
        (10, 8, 1),
        (10, 7, 2),
        (10, 6, 2),
        (10, 5, 3),
    ]
    clock.now += 1.0  # two requests' worth freed: 1.5 s held, plus this one's 0.5
    assert limits(client.get(ORGANIZATION)) == (10, 6, 2)
    clock.now += 60
    assert limits(client.get(ORGANIZATION)) == (10, 9, 1)


def test_requests_without_a_valid_key_are_not_limited_and_say_nothing_of_it(client, personas):
    answers = [
        client.get(ORGANIZATION),
        client.get(ORGANIZATION, HTTP_AUTHORIZATION="Bearer smsh_000000000000_nope"),
        client.get("/api/v1/no-such-endpoint/"),
        client.get("/api/v1/no-such-endpoint/", HTTP_AUTHORIZATION="Bearer garbage"),
    ]

    assert [r.status_code for r in answers] == [401, 401, 404, 404]
    for response in answers:
        assert not any(response.has_header(name) for name in HEADERS)
        assert not response.has_header("Retry-After")


# --- Over the limit -------------------------------------------------------------------------


def test_the_101st_request_of_a_burst_is_a_429_that_changes_nothing(personas, clock):
    _api_key, client = key(personas.org)

    answers = burst(client, 100)
    refused = client.post(CONTACTS, {"phone": "+14155550123"}, format="json")

    assert [r.status_code for r in answers] == [200] * 100
    assert limits(answers[-1]) == (100, 0, 5)  # a full burst is paid off in 100 / 20 s
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"  # one request frees in 0.05 s, rounded up
    assert limits(refused) == (100, 0, 5)
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["fields"] == {}
    assert "at most 100 at once, then 20 a second" in error["message"]
    assert not Contact.objects.filter(organization=personas.org).exists()


def test_it_is_counted_before_the_role_so_a_forbidden_request_is_refused_as_well(personas, clock):
    personas.org.api_rate_limit, personas.org.api_burst = 1, 2
    personas.org.save()
    _api_key, viewer = key(personas.org, Role.VIEWER)

    codes = [viewer.delete(f"/api/v1/members/{uuid.uuid4()}/").status_code for _ in range(3)]

    assert codes == [403, 403, 429]


def test_the_key_recovers_as_the_clock_moves_on(personas, clock):
    _api_key, client = key(personas.org)
    burst(client, 100)
    assert client.get(ORGANIZATION).status_code == 429

    clock.now += 0.049
    assert client.get(ORGANIZATION).status_code == 429
    clock.now += 0.001  # one request's worth: exactly one more
    allowed = client.get(ORGANIZATION)
    assert allowed.status_code == 200
    assert limits(allowed) == (100, 0, 5)
    assert client.get(ORGANIZATION).status_code == 429

    clock.now += 1.0  # twenty more
    assert [r.status_code for r in burst(client, 21)] == [200] * 20 + [429]
    clock.now += 5.0  # whole again
    assert [limits(r)[1] for r in burst(client, 2)] == [99, 98]


def test_retry_after_rounds_up_the_wait_to_whole_seconds_never_0(personas, clock):
    personas.org.api_rate_limit, personas.org.api_burst = 1, 1
    personas.org.save()
    _api_key, client = key(personas.org)

    assert client.get(ORGANIZATION).status_code == 200
    clock.now += 0.999
    refused = client.get(ORGANIZATION)  # 1 ms to go
    assert (refused.status_code, refused["Retry-After"]) == (429, "1")
    clock.now += 0.001
    assert client.get(ORGANIZATION).status_code == 200

    # A burst lowered below what the key has just used: it waits until it fits the new one.
    clock.now += 1
    personas.org.api_burst = 5
    personas.org.save()
    burst(client, 5)
    personas.org.api_burst = 1
    personas.org.save()
    refused = client.get(ORGANIZATION)
    assert (refused.status_code, refused["Retry-After"]) == (429, "5")
    assert limits(refused) == (1, 0, 5)


# --- Per organization, per key ----------------------------------------------------------------


def test_an_organization_sets_its_own_limit_for_its_keys(personas, clock):
    personas.org.api_rate_limit, personas.org.api_burst = 5, 3
    personas.org.save()
    _own_key, own = key(personas.org)
    _other_key, other = key(personas.other_org)

    answers = burst(own, 4)

    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert limits(answers[0]) == (3, 2, 1)
    assert "at most 3 at once, then 5 a second" in answers[-1].json()["error"]["message"]
    assert limits(other.get(ORGANIZATION)) == (100, 99, 1)  # the defaults elsewhere
    clock.now += 0.2  # one request at 5 a second
    assert own.get(ORGANIZATION).status_code == 200


def test_two_keys_of_one_organization_have_a_budget_each(personas, clock):
    _first_key, first = key(personas.org)
    _second_key, second = key(personas.org)

    burst(first, 100)

    assert first.get(ORGANIZATION).status_code == 429
    answer = second.get(ORGANIZATION)
    assert answer.status_code == 200
    assert limits(answer) == (100, 99, 1)


def test_a_revoked_key_is_a_401_even_over_its_limit(personas, clock):
    api_key, client = key(personas.org)
    burst(client, 100)
    assert client.get(ORGANIZATION).status_code == 429

    api_key_revoke(api_key=api_key)
    response = client.get(ORGANIZATION)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not any(response.has_header(name) for name in HEADERS)


def test_defaults_come_from_the_settings(personas, clock, settings):
    settings.API_RATE_LIMIT, settings.API_BURST = 7, 2
    _api_key, client = key(personas.org)

    assert [r.status_code for r in burst(client, 3)] == [200, 200, 429]


def test_without_redis_the_api_still_answers_unlimited(personas, clock, monkeypatch, caplog):
    nowhere = Gcra("redis://127.0.0.1:1/0")  # nothing listens on port 1
    monkeypatch.setattr(ratelimit, "shared", lambda: nowhere)
    _api_key, client = key(personas.org)

    response = client.get(ORGANIZATION)

    assert response.status_code == 200
    assert not any(response.has_header(name) for name in HEADERS)
    assert "API rate limit not applied, Redis did not answer" in caplog.text


# --- Every API view is covered ----------------------------------------------------------------


def _api_views(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.lstrip("^").startswith("api/"):
            found.append((route, pattern.callback))
    return found


def test_every_api_view_is_an_organization_api_view_or_public():
    """A view under /api/ that authenticates keys is an ``OrganizationAPIView`` (limited, with
    the headers); the only others are public ones that read no key (the schema, its docs)."""
    views = _api_views(get_resolver().url_patterns)

    assert len(views) > 30
    for route, callback in views:
        cls = getattr(callback, "cls", None)
        assert cls is not None, f"{route} is not a DRF view"
        public = list(cls.permission_classes) == [AllowAny] and not cls.authentication_classes
        assert issubclass(cls, OrganizationAPIView) or public, route


# --- Where admins see and set it --------------------------------------------------------------


def test_admins_set_the_limit_in_the_settings_and_see_it_on_the_api_keys_page(personas):
    page = page_text(personas.client("admin").get("/settings/api-keys/"))
    assert "each key may make 100 requests at once, then 20 a second;" in page

    data = settings_data(personas.org, api_rate_limit="50", api_burst="500")
    response = personas.client("admin").post("/settings/", data)

    assert response.status_code == 302
    personas.org.refresh_from_db()
    assert (personas.org.api_rate_limit, personas.org.api_burst) == (50, 500)
    page = page_text(personas.client("owner").get("/settings/api-keys/"))
    assert "500 requests at once, then 50 a second (this organization's own limit)" in page
    assert 'placeholder="20"' in page_text(personas.client("admin").get("/settings/"))

    data = settings_data(personas.org, api_rate_limit="", api_burst="")
    personas.client("admin").post("/settings/", data)
    personas.org.refresh_from_db()
    assert (personas.org.api_rate_limit, personas.org.api_burst) == (None, None)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"api_rate_limit": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"api_rate_limit": "10001"}, "Ensure this value is less than or equal to 10000."),
        ({"api_burst": "100001"}, "Ensure this value is less than or equal to 100000."),
    ],
)
def test_it_refuses_limits_out_of_bounds(personas, changes, error):
    response = personas.client("admin").post("/settings/", settings_data(personas.org, **changes))

    assert response.status_code == 400
    assert error in page_text(response)
    personas.org.refresh_from_db()
    assert (personas.org.api_rate_limit, personas.org.api_burst) == (None, None)


def test_a_marketer_cannot_change_the_limit(personas):
    data = settings_data(personas.org, api_rate_limit="1000")
    response = personas.client("marketer").post("/settings/", data)

    assert response.status_code == 403
    personas.org.refresh_from_db()
    assert personas.org.api_rate_limit is None


def test_the_organization_api_shows_and_changes_the_limit(personas, clock):
    admin = personas.api("admin")
    assert admin.get(ORGANIZATION).json()["api_rate_limit"] is None

    response = admin.patch(ORGANIZATION, {"api_rate_limit": 2, "api_burst": 4}, format="json")

    assert response.status_code == 200
    assert (response.json()["api_rate_limit"], response.json()["api_burst"]) == (2, 4)
    # The new limit applies from the next request on, to the budget as it stands: the two
    # requests before hold it 0.1 s; each one now holds it 0.5 s of 2.
    answers = burst(admin, 4)
    assert [limits(r) for r in answers] == [(4, 2, 1), (4, 1, 2), (4, 0, 2), (4, 0, 2)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
