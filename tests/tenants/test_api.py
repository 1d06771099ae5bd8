import pytest
from rest_framework.test import APIClient

from tenants.models import ApiKey, Membership, Organization, Role
from tenants.services.api_keys import api_key_create

pytestmark = pytest.mark.django_db

ROUTES = ["/api/v1/organization/", "/api/v1/members/", "/api/v1/api-keys/"]


def bearer(raw: str) -> APIClient:
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.parametrize("url", ROUTES)
def test_it_answers_401_without_a_key(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header", ["Bearer smsh_000000000000_nope", "Bearer garbage", "Token abc", "Bearer "]
)
def test_it_answers_401_for_a_bad_key(client, personas, header):
    response = client.get("/api/v1/organization/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_it_shows_the_keys_organization(personas):
    response = personas.api("viewer").get("/api/v1/organization/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(personas.org.public_id)
    assert body["name"] == "Acme A"
    assert body["slug"] == personas.org.slug
    assert body["send_window_start"] == "08:00"
    assert body["send_window_end"] == "21:00"
    assert body["opt_out_footer"] == "Reply STOP to opt out"
    assert body["message_retention_days"] == 400
    assert body["created_at"].endswith("Z")
    assert "pk" not in body
    assert "deletion_requested_at" not in body


def test_the_outsiders_key_sees_only_its_own_organization(personas):
    body = personas.api("outsider").get("/api/v1/organization/").json()
    assert body["id"] == str(personas.other_org.public_id)


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("marketer", 403), ("viewer", 403)]
)
def test_only_admin_keys_change_settings(personas, persona, status):
    response = personas.api(persona).patch(
        "/api/v1/organization/", {"frequency_cap": 3, "time_zone": "Europe/Paris"}, format="json"
    )
    assert response.status_code == status
    personas.org.refresh_from_db()
    changed = (personas.org.frequency_cap, personas.org.time_zone) == (3, "Europe/Paris")
    assert changed is (status == 200)


def test_it_rejects_invalid_settings_naming_the_fields(personas):
    response = personas.api("admin").patch(
        "/api/v1/organization/",
        {"time_zone": "Mars/Base", "message_retention_days": 5, "slug": "hacked"},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"time_zone", "message_retention_days"}
    personas.org.refresh_from_db()
    assert personas.org.time_zone == "UTC"
    assert personas.org.slug == "acme-a"


def test_it_rejects_a_body_that_is_not_json(personas):
    response = personas.api("admin").patch(
        "/api/v1/organization/", "name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("marketer", 403), ("viewer", 403)]
)
def test_only_admin_keys_list_members(personas, persona, status):
    response = personas.api(persona).get("/api/v1/members/")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert set(body) == {"results", "next", "previous"}
        emails = {m["email"] for m in body["results"]}
        assert emails == {
            "owner@a.example.com",
            "admin@a.example.com",
            "marketer@a.example.com",
            "viewer@a.example.com",
        }


def test_member_lists_are_paginated_with_a_cursor(personas):
    api = personas.api("admin")
    first = api.get("/api/v1/members/?limit=3").json()
    assert len(first["results"]) == 3
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    seen = {m["id"] for m in first["results"]} | {m["id"] for m in second["results"]}
    assert len(seen) == 4


def test_an_admin_key_changes_a_members_role(personas):
    member = personas.membership("viewer")
    response = personas.api("admin").patch(
        f"/api/v1/members/{member.public_id}/", {"role": "marketer"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "marketer"
    member.refresh_from_db()
    assert member.role == Role.MARKETER


def test_an_admin_key_cannot_touch_an_owner(personas):
    owner = personas.membership("owner")
    api = personas.api("admin")
    demote = api.patch(f"/api/v1/members/{owner.public_id}/", {"role": "viewer"}, format="json")
    assert demote.status_code == 403
    assert api.delete(f"/api/v1/members/{owner.public_id}/").status_code == 403
    grant = api.patch(
        f"/api/v1/members/{personas.membership('viewer').public_id}/",
        {"role": "owner"},
        format="json",
    )
    assert grant.status_code == 403
    assert Membership.objects.filter(organization=personas.org, role=Role.OWNER).count() == 1


def test_an_admin_key_removes_a_member(personas):
    member = personas.membership("marketer")
    response = personas.api("admin").delete(f"/api/v1/members/{member.public_id}/")
    assert response.status_code == 204
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_another_organizations_member_is_a_404(personas):
    theirs = Membership.objects.get(user=personas.outsider)
    api = personas.api("admin")
    assert api.get(f"/api/v1/members/{theirs.public_id}/").status_code == 404
    response = api.delete(f"/api/v1/members/{theirs.public_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Membership.objects.filter(pk=theirs.pk).exists()
    assert api.get("/api/v1/members/not-a-uuid/").status_code == 404


def test_an_admin_key_creates_a_key_shown_once(personas):
    api = personas.api("admin")
    response = api.post(
        "/api/v1/api-keys/", {"name": "CRM sync", "role": "marketer"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "marketer"
    raw = body["key"]
    assert raw.startswith("smsh_")
    created = ApiKey.objects.get(public_id=body["id"])
    assert raw not in (created.key_hash, created.prefix)
    assert bearer(raw).get("/api/v1/organization/").status_code == 200
    listed = api.get("/api/v1/api-keys/").json()["results"]
    assert all("key" not in item and raw not in str(item) for item in listed)
    assert api.get(f"/api/v1/api-keys/{body['id']}/").json()["prefix"] == f"smsh_{created.prefix}_…"


def test_keys_cannot_be_owners(personas):
    response = personas.api("admin").post(
        "/api/v1/api-keys/", {"name": "x", "role": "owner"}, format="json"
    )
    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]


def test_a_revoked_key_gets_401(personas):
    _key, raw = api_key_create(organization=personas.org, name="old", role=Role.VIEWER)
    client = bearer(raw)
    assert client.get("/api/v1/organization/").status_code == 200
    key_id = ApiKey.objects.get(name="old").public_id
    assert personas.api("admin").delete(f"/api/v1/api-keys/{key_id}/").status_code == 204
    response = client.get("/api/v1/organization/")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]
    assert personas.api("admin").delete(f"/api/v1/api-keys/{key_id}/").status_code == 409


def test_a_viewer_key_cannot_write(personas):
    api = personas.api("viewer")
    response = api.post("/api/v1/api-keys/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert api.patch("/api/v1/organization/", {"name": "x"}, format="json").status_code == 403
    assert Organization.objects.get(pk=personas.org.pk).name == "Acme A"


def test_a_key_of_a_deleted_organization_stops_working(personas):
    api = personas.api("admin")
    Organization.objects.filter(pk=personas.org.pk).update(
        deletion_requested_at="2026-01-01T00:00Z"
    )
    assert api.get("/api/v1/organization/").status_code == 401


def test_unknown_api_urls_answer_json_404(personas):
    response = personas.api("admin").get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_records_when_a_key_was_last_used(personas):
    api = personas.api("viewer")
    api.get("/api/v1/organization/")
    key = ApiKey.objects.get(name="viewer")
    assert key.last_used_at is not None
