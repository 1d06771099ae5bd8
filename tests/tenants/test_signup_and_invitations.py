"""Signing up with a new organization, and inviting people into an existing one."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from tenants.models import Invitation, Membership, Organization, Role, User
from tests.factories import page_text
from tests.tenants.invitation_helpers import LINK, invite

pytestmark = pytest.mark.django_db


def signup_data(**changes: str) -> dict[str, str]:
    data = {
        "full_name": "Nora New",
        "email": "nora@example.com",
        "password": "a-long-and-unusual-passphrase",
        "organization_name": "Nora's Bakery",
        "time_zone": "Europe/Berlin",
        "default_country": "DE",
    }
    data.update(changes)
    return data


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Organization.objects.count(), Membership.objects.count()


# --- Signing up -----------------------------------------------------------------------------


def test_it_signs_up_a_person_with_their_own_organization(client, db):
    response = client.post("/signup/", signup_data())
    assert response.status_code == 302
    assert response["Location"] == "/"

    user = User.objects.get(email="nora@example.com")
    assert user.full_name == "Nora New"
    assert user.check_password("a-long-and-unusual-passphrase")
    organization = Organization.objects.get(name="Nora's Bakery")
    assert organization.time_zone == "Europe/Berlin"
    assert organization.default_country == "DE"
    membership = Membership.objects.get(user=user)
    assert membership.organization == organization
    assert membership.role == Role.OWNER
    assert client.session["_auth_user_id"] == str(user.pk)

    page = page_text(client.get("/"))
    assert "<h1>Nora's Bakery</h1>" in page
    assert "Welcome to SMS Hub. Nora's Bakery is ready." in page


@pytest.mark.parametrize("email", ["owner@a.example.com", "OWNER@A.example.com"])
def test_it_refuses_to_sign_up_an_email_that_has_an_account(client, personas, email):
    before = counts()
    response = client.post("/signup/", signup_data(email=email))
    assert response.status_code == 400
    assert "An account with this email already exists. Log in instead." in page_text(response)
    assert counts() == before
    assert not Organization.objects.filter(name="Nora's Bakery").exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("password", "error"),
    [
        ("short1", "This password is too short."),
        ("password123", "This password is too common."),
        ("84736291047", "This password is entirely numeric."),
    ],
)
def test_it_refuses_to_sign_up_with_a_weak_password(client, db, password, error):
    response = client.post("/signup/", signup_data(password=password))
    assert response.status_code == 400
    assert error in page_text(response)
    assert counts() == (0, 0, 0)
    assert "_auth_user_id" not in client.session


def test_it_requires_every_signup_field(client, db):
    response = client.post("/signup/", signup_data(organization_name=""))
    assert response.status_code == 400
    assert "This field is required." in page_text(response)
    assert counts() == (0, 0, 0)


# --- Inviting -------------------------------------------------------------------------------


def test_it_invites_by_email_and_shows_the_link_once(personas, django_capture_on_commit_callbacks):
    client = personas.client("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/settings/members/", {"email": "Newbie@Example.com", "role": Role.MARKETER}
        )
    assert response.status_code == 200

    invitation = Invitation.objects.get(organization=personas.org)
    assert invitation.email == "newbie@example.com"
    assert invitation.role == Role.MARKETER
    assert invitation.invited_by == personas.admin
    assert invitation.accepted_at is None

    page = page_text(response)
    links = set(LINK.findall(page))
    assert len(links) == 1
    assert "Invitation created for newbie@example.com and e-mailed to them." in page

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["newbie@example.com"]
    assert "Acme A" in email.subject
    assert LINK.findall(str(email.body)) == list(links)

    # Only the hash is kept: the page never shows the link again.
    again = page_text(client.get("/settings/members/"))
    assert "newbie@example.com" in again
    assert not LINK.search(again)


def test_it_keeps_the_invitation_and_shows_its_link_when_the_mail_server_fails(
    personas, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    import smtplib

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    client = personas.client("admin")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/settings/members/", {"email": "newbie@example.com", "role": Role.MARKETER}
        )

    assert response.status_code == 200
    invitation = Invitation.objects.get(organization=personas.org)
    assert len(set(LINK.findall(page_text(response)))) == 1
    assert mail.outbox == []
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"invitation e-mail not sent: {invitation.public_id}: SMTPServerDisconnected"
    ]


def test_it_sends_no_email_when_the_invitation_is_refused(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.client("admin").post(
            "/settings/members/", {"email": "not-an-email", "role": Role.VIEWER}
        )
    assert response.status_code == 400
    assert "Enter a valid email address." in page_text(response)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_it_does_not_let_an_admin_invite_an_owner(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.client("admin").post(
            "/settings/members/", {"email": "boss@example.com", "role": Role.OWNER}
        )
    assert response.status_code == 400
    assert "Select a valid choice. owner is not one of the available choices." in page_text(
        response
    )
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_it_offers_the_owner_role_only_to_owners(personas):
    owner_page = page_text(personas.client("owner").get("/settings/members/"))
    admin_page = page_text(personas.client("admin").get("/settings/members/"))
    assert '<option value="owner"' in owner_page
    assert '<option value="owner"' not in admin_page


def test_it_lets_an_owner_invite_an_owner(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.client("owner").post(
            "/settings/members/", {"email": "boss@example.com", "role": Role.OWNER}
        )
    assert response.status_code == 200
    assert Invitation.objects.get(email="boss@example.com").role == Role.OWNER
    assert len(mail.outbox) == 1


def test_it_refuses_to_invite_an_existing_member(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.client("admin").post(
            "/settings/members/", {"email": "Viewer@A.example.com", "role": Role.ADMIN}
        )
    assert response.status_code == 400
    assert "viewer@a.example.com is already a member." in page_text(response)
    assert not Invitation.objects.exists()
    assert mail.outbox == []
    assert personas.membership("viewer").role == Role.VIEWER


def test_it_replaces_a_pending_invitation_for_the_same_address(personas):
    first = invite(personas, "twice@example.com", Role.VIEWER)
    second = invite(personas, "twice@example.com", Role.MARKETER)
    assert Invitation.objects.get(email="twice@example.com").role == Role.MARKETER
    assert "This invitation link is not valid." in page_text(personas.client("outsider").get(first))
    assert Client(HTTP_X_FORWARDED_PROTO="https").get(second).status_code == 200
