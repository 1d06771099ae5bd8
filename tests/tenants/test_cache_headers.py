"""What caches may keep: nothing of a page showing a secret, nothing shared of a signed-in page."""

from __future__ import annotations

import pytest
from django.utils.cache import get_max_age

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}


def assert_no_store(response) -> None:
    assert {"no-store", "private"} <= directives(response), response.get("Cache-Control")
    assert "public" not in directives(response)


def test_the_new_api_key_page_is_never_stored(personas):
    client = personas.client("admin")
    response = client.post("/settings/api-keys/", {"name": "CRM sync", "role": "marketer"})
    assert response.status_code == 200
    assert "smsh_" in response.content.decode()
    assert_no_store(response)
    assert_no_store(client.get("/settings/api-keys/"))


def test_the_api_answer_carrying_a_new_key_is_never_stored(personas):
    response = personas.api("admin").post(
        "/api/v1/api-keys/", {"name": "CRM sync", "role": "viewer"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["key"].startswith("smsh_")
    assert_no_store(response)


def test_the_page_showing_an_invitation_link_is_never_stored(personas):
    client = personas.client("admin")
    response = client.post("/settings/members/", {"email": "new@example.com", "role": "viewer"})
    assert response.status_code == 200
    assert "/invitations/" in response.content.decode()
    assert_no_store(response)


def test_the_invitation_page_is_never_stored(client, personas):
    from tests.tenants.invitation_helpers import invite

    response = client.get(invite(personas, "new@example.com"))
    assert response.status_code == 200
    assert_no_store(response)


@pytest.mark.parametrize(
    "path", ["/", "/settings/", "/settings/members/", "/account/password/", "/organizations/new/"]
)
def test_signed_in_pages_are_private(personas, path):
    response = personas.client("viewer").get(path)
    assert response.status_code == 200
    assert "private" in directives(response), response.get("Cache-Control")
    assert "public" not in directives(response)


def test_api_answers_are_private(personas):
    response = personas.api("viewer").get("/api/v1/organization/")
    assert response.status_code == 200
    assert "private" in directives(response)


def test_a_signed_in_page_keeps_its_stricter_cache_rules(personas):
    response = personas.client("admin").get("/settings/api-keys/")
    assert {"no-store", "no-cache", "must-revalidate", "private"} <= directives(response)
    assert get_max_age(response) == 0


def test_anonymous_pages_are_left_alone(client, db):
    response = client.get("/signup/")
    assert response.status_code == 200
    assert "Cache-Control" not in response
