"""Switching between a user's organizations, and creating another one from the pages."""

from __future__ import annotations

import pytest

from tenants.models import Membership, Organization, Role
from tests.factories import make_user, page_text

pytestmark = pytest.mark.django_db


# --- Switching organizations ----------------------------------------------------------------


def test_it_refuses_to_switch_to_an_organization_the_user_is_not_a_member_of(personas):
    client = personas.client("admin")
    response = client.post(
        "/organizations/switch/", {"organization": str(personas.other_org.public_id)}
    )
    assert response.status_code == 404
    assert "<h1>Acme A</h1>" in page_text(client.get("/"))


def test_it_answers_404_to_switching_with_a_malformed_organization_id(personas):
    client = personas.client("admin")
    response = client.post("/organizations/switch/", {"organization": "not-a-uuid"})
    assert response.status_code == 404


def test_it_switches_between_the_users_organizations(personas):
    Membership.objects.create(
        organization=personas.other_org, user=personas.admin, role=Role.MARKETER
    )
    client = personas.client("admin")
    assert "<h1>Acme A</h1>" in page_text(client.get("/"))

    response = client.post(
        "/organizations/switch/", {"organization": str(personas.other_org.public_id)}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = page_text(client.get("/"))
    assert "<h1>Beta B</h1>" in page
    assert "You are marketer" in page
    # The role follows the organization: a marketer of B cannot read B's API keys.
    assert client.get("/settings/api-keys/").status_code == 403

    client.post("/organizations/switch/", {"organization": str(personas.org.public_id)})
    assert "<h1>Acme A</h1>" in page_text(client.get("/"))
    assert client.get("/settings/api-keys/").status_code == 200


def test_it_does_not_switch_on_get(personas):
    response = personas.client("admin").get("/organizations/switch/")
    assert response.status_code == 405


def test_it_sends_a_signed_in_person_without_organization_to_create_one(client, db):
    client.force_login(make_user("loner@example.com"))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/organizations/new/"
    assert client.get("/settings/")["Location"] == "/organizations/new/"


def test_it_creates_another_organization_owned_by_its_creator(personas):
    client = personas.client("viewer")
    response = client.post(
        "/organizations/new/",
        {"name": "Viewer Venture", "time_zone": "Europe/Paris", "default_country": "FR"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    created = Organization.objects.get(name="Viewer Venture")
    assert created.time_zone == "Europe/Paris"
    assert Membership.objects.get(organization=created).user == personas.viewer
    assert Membership.objects.get(organization=created).role == Role.OWNER
    assert "<h1>Viewer Venture</h1>" in page_text(client.get("/"))
