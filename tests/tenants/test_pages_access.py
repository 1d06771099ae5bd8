"""Who may open and post to each page: anonymous visitors, the four roles, and outsiders."""

from __future__ import annotations

import re

import pytest

from tenants.actor import Actor
from tenants.models import ApiKey, Invitation, Membership, Organization, Role
from tenants.services.api_keys import api_key_create
from tenants.services.members import invitation_create
from tests.factories import make_member, page_text, settings_data

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "marketer", "viewer"]
SOME_ID = "0b7f3a52-5f7e-4c0c-9d4e-2f0a3c1b9e11"
ONLY_ADMINS_TEXT = "Only admins and owners can change these settings."


def may(persona: str, minimum: str) -> bool:
    return Role.at_least(persona, minimum)


def row(model, pk: int) -> dict:
    return model.objects.filter(pk=pk).values().get()


@pytest.fixture
def target(personas) -> Membership:
    """A further viewer of organization A that the tests act on."""
    user = make_member(personas.org, Role.VIEWER, "target@a.example.com")
    return Membership.objects.get(user=user)


@pytest.fixture
def invitation(personas) -> Invitation:
    actor = Actor.for_membership(personas.membership("owner"))
    invitation, _link = invitation_create(
        organization=personas.org, email="invitee@example.com", role=Role.VIEWER, by=actor
    )
    return invitation


@pytest.fixture
def api_key(personas) -> ApiKey:
    key, _raw = api_key_create(organization=personas.org, name="CRM sync", role=Role.VIEWER)
    return key


# --- Anonymous visitors ---------------------------------------------------------------------

PROTECTED_PATHS = [
    "/",
    "/account/password/",
    "/organizations/new/",
    "/organizations/switch/",
    "/settings/",
    "/settings/delete/",
    "/settings/members/",
    f"/settings/members/{SOME_ID}/role/",
    f"/settings/members/{SOME_ID}/remove/",
    f"/settings/invitations/{SOME_ID}/revoke/",
    "/settings/api-keys/",
    f"/settings/api-keys/{SOME_ID}/revoke/",
]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", PROTECTED_PATHS)
def test_it_sends_anonymous_visitors_to_the_login_page(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_it_changes_nothing_for_anonymous_posts(client, personas, target, invitation, api_key):
    before = row(Organization, personas.org.pk)
    client.post("/settings/", settings_data(personas.org, name="Hijacked"))
    client.post(f"/settings/members/{target.public_id}/role/", {"role": Role.ADMIN})
    client.post(f"/settings/members/{target.public_id}/remove/")
    client.post(f"/settings/invitations/{invitation.public_id}/revoke/")
    client.post(f"/settings/api-keys/{api_key.public_id}/revoke/")
    client.post("/settings/delete/", {"confirmation": personas.org.name})
    assert row(Organization, personas.org.pk) == before
    assert Membership.objects.get(pk=target.pk).role == Role.VIEWER
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/login/", 200, "Log in"),
        ("/signup/", 200, "Create your account"),
        ("/password-reset/", 200, "Reset your password"),
        ("/password-reset/sent/", 200, "Check your email"),
        ("/password-reset/MQ/bad-token/", 200, "This password reset link is not valid any more"),
        ("/invitations/no-such-token/", 410, "This invitation link is not valid."),
    ],
)
def test_it_serves_the_public_pages_to_anonymous_visitors(client, db, path, status, text):
    response = client.get(path)
    assert response.status_code == status
    assert text in page_text(response)


def test_it_logs_out_on_post_and_returns_to_the_login_page(personas):
    client = personas.client("viewer")
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/")["Location"] == "/login/?next=/"


@pytest.mark.parametrize("path", ["/login/", "/signup/"])
def test_it_sends_signed_in_people_from_login_and_signup_to_the_dashboard(personas, path):
    response = personas.client("viewer").get(path)
    assert response.status_code == 302
    assert response["Location"] == "/"


# --- Reading pages, by role -----------------------------------------------------------------

READ_PAGES = [
    ("/", Role.VIEWER),
    ("/settings/", Role.VIEWER),
    ("/settings/members/", Role.VIEWER),
    ("/account/password/", Role.VIEWER),
    ("/organizations/new/", Role.VIEWER),
    ("/settings/api-keys/", Role.ADMIN),
    ("/settings/delete/", Role.OWNER),
]


@pytest.mark.parametrize("persona", ROLES)
@pytest.mark.parametrize(("path", "minimum"), READ_PAGES)
def test_it_shows_each_page_only_to_the_roles_that_may_read_it(personas, persona, path, minimum):
    response = personas.client(persona).get(path)
    assert response.status_code == (200 if may(persona, minimum) else 403)


@pytest.mark.parametrize("persona", ROLES)
def test_it_shows_the_dashboard_of_the_members_organization(personas, persona):
    response = personas.client(persona).get("/")
    assert response.status_code == 200
    page = page_text(response)
    assert "<h1>Acme A</h1>" in page
    assert "Beta B" not in page


@pytest.mark.parametrize("persona", ROLES)
def test_it_disables_the_settings_form_below_admin(personas, persona):
    response = personas.client(persona).get("/settings/")
    assert response.status_code == 200
    page = page_text(response)
    editable = may(persona, Role.ADMIN)
    assert (ONLY_ADMINS_TEXT in page) is not editable
    assert ("Save settings" in page) is editable
    name_input = re.search(r'<input type="text" name="name" value="Acme A"[^>]*>', page)
    assert name_input
    assert ("disabled" in name_input.group(0)) is not editable


@pytest.mark.parametrize("persona", ROLES)
def test_it_offers_the_invitation_form_only_to_admins_and_owners(personas, persona):
    page = page_text(personas.client(persona).get("/settings/members/"))
    assert "owner@a.example.com" in page
    assert ("Invite someone" in page) is may(persona, Role.ADMIN)


# --- Writing, by role -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ROLES)
def test_it_saves_settings_only_for_admins_and_owners(personas, persona):
    before = row(Organization, personas.org.pk)
    data = settings_data(personas.org, name="Acme Renamed", send_window_start="09:30")
    response = personas.client(persona).post("/settings/", data)
    personas.org.refresh_from_db()
    if may(persona, Role.ADMIN):
        assert response.status_code == 302
        assert response["Location"] == "/settings/"
        assert personas.org.name == "Acme Renamed"
        assert personas.org.send_window_start.strftime("%H:%M") == "09:30"
    else:
        assert response.status_code == 403
        assert row(Organization, personas.org.pk) == before


@pytest.mark.parametrize("persona", ROLES)
def test_it_lets_only_admins_and_owners_invite(personas, persona):
    data = {"email": "new@example.com", "role": Role.VIEWER}
    response = personas.client(persona).post("/settings/members/", data)
    invited = Invitation.objects.filter(organization=personas.org, email="new@example.com")
    if may(persona, Role.ADMIN):
        assert response.status_code == 200
        assert invited.count() == 1
    else:
        assert response.status_code == 403
        assert not invited.exists()


@pytest.mark.parametrize("persona", ROLES)
def test_it_lets_only_admins_and_owners_create_api_keys(personas, persona):
    response = personas.client(persona).post(
        "/settings/api-keys/", {"name": "Zapier", "role": Role.MARKETER}
    )
    created = ApiKey.objects.filter(organization=personas.org, name="Zapier")
    if may(persona, Role.ADMIN):
        assert response.status_code == 200
        key = created.get()
        assert f"smsh_{key.prefix}_" in page_text(response)
    else:
        assert response.status_code == 403
        assert not created.exists()


@pytest.mark.parametrize("persona", ROLES)
def test_it_lets_only_owners_delete_the_organization(personas, persona):
    response = personas.client(persona).post(
        "/settings/delete/", {"confirmation": personas.org.name}
    )
    personas.org.refresh_from_db()
    if persona == "owner":
        assert response.status_code == 302
        assert personas.org.deletion_requested_at is not None
    else:
        assert response.status_code == 403
        assert personas.org.deletion_requested_at is None


@pytest.mark.parametrize("persona", ROLES)
def test_it_lets_only_admins_and_owners_change_roles(personas, persona, target):
    response = personas.client(persona).post(
        f"/settings/members/{target.public_id}/role/", {"role": Role.MARKETER}
    )
    target.refresh_from_db()
    if may(persona, Role.ADMIN):
        assert response.status_code == 302
        assert response["Location"] == "/settings/members/"
        assert target.role == Role.MARKETER
    else:
        assert response.status_code == 403
        assert target.role == Role.VIEWER


@pytest.mark.parametrize("persona", ROLES)
def test_it_shows_the_remove_confirmation_only_to_admins_and_owners(personas, persona, target):
    response = personas.client(persona).get(f"/settings/members/{target.public_id}/remove/")
    if may(persona, Role.ADMIN):
        assert response.status_code == 200
        assert "Remove target@a.example.com?" in page_text(response)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("persona", ROLES)
def test_it_lets_only_admins_and_owners_remove_someone_else(personas, persona, target):
    response = personas.client(persona).post(f"/settings/members/{target.public_id}/remove/")
    still_there = Membership.objects.filter(pk=target.pk).exists()
    if may(persona, Role.ADMIN):
        assert response.status_code == 302
        assert response["Location"] == "/settings/members/"
        assert not still_there
    else:
        assert still_there
        assert response.status_code == 403


@pytest.mark.parametrize("persona", ROLES)
def test_it_lets_only_admins_and_owners_revoke_invitations(personas, persona, invitation):
    response = personas.client(persona).post(
        f"/settings/invitations/{invitation.public_id}/revoke/"
    )
    still_there = Invitation.objects.filter(pk=invitation.pk).exists()
    if may(persona, Role.ADMIN):
        assert response.status_code == 302
        assert response["Location"] == "/settings/members/"
        assert not still_there
    else:
        assert response.status_code == 403
        assert still_there


@pytest.mark.parametrize("persona", ROLES)
def test_it_lets_only_admins_and_owners_revoke_api_keys(personas, persona, api_key):
    client = personas.client(persona)
    path = f"/settings/api-keys/{api_key.public_id}/revoke/"
    confirmation = client.get(path)
    response = client.post(path)
    api_key.refresh_from_db()
    if may(persona, Role.ADMIN):
        assert confirmation.status_code == 200
        assert "Revoke “CRM sync”?" in page_text(confirmation)
        assert response.status_code == 302
        assert response["Location"] == "/settings/api-keys/"
        assert api_key.revoked_at is not None
    else:
        assert confirmation.status_code == 403
        assert response.status_code == 403
        assert api_key.revoked_at is None


# --- Other organizations' objects and malformed ids -----------------------------------------


OBJECT_REQUESTS = [
    ("post", "/settings/members/{target}/role/"),
    ("get", "/settings/members/{target}/remove/"),
    ("post", "/settings/members/{target}/remove/"),
    ("post", "/settings/invitations/{invitation}/revoke/"),
    ("get", "/settings/api-keys/{api_key}/revoke/"),
    ("post", "/settings/api-keys/{api_key}/revoke/"),
]


@pytest.mark.parametrize(("method", "template"), OBJECT_REQUESTS)
def test_it_answers_404_to_an_outsider_using_another_organizations_ids(
    personas, target, invitation, api_key, method, template
):
    path = template.format(
        target=target.public_id, invitation=invitation.public_id, api_key=api_key.public_id
    )
    response = getattr(personas.client("outsider"), method)(path, {"role": Role.ADMIN})
    assert response.status_code == 404
    assert Membership.objects.get(pk=target.pk).role == Role.VIEWER
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", SOME_ID])
@pytest.mark.parametrize(("method", "template"), OBJECT_REQUESTS)
def test_it_answers_404_to_malformed_or_unknown_ids(personas, method, template, bad_id):
    path = template.format(target=bad_id, invitation=bad_id, api_key=bad_id)
    response = getattr(personas.client("owner"), method)(path, {"role": Role.VIEWER})
    assert response.status_code == 404
