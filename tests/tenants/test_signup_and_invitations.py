"""Signing up with a new organization, and inviting people into an existing one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tenants.actor import Actor
from tenants.models import Invitation, Membership, Organization, Role, User
from tenants.services.members import invitation_create
from tests.factories import PASSWORD, make_user, page_text

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https://hub\.example\.com(/invitations/[A-Za-z0-9_-]+/)")


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


def invite(personas, email: str, role: str = Role.MARKETER, by: str = "admin") -> str:
    """Creates an invitation in organization A and returns the path of its link."""
    actor = Actor.for_membership(personas.membership(by))
    _invitation, url = invitation_create(
        organization=personas.org, email=email, role=role, by=actor
    )
    found = LINK.fullmatch(url)
    assert found, url
    return found.group(1)


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


# --- Accepting ------------------------------------------------------------------------------


def test_it_lets_a_new_person_create_their_account_and_join(client, personas):
    path = invite(personas, "newbie@example.com", Role.MARKETER)
    page = client.get(path)
    assert page.status_code == 200
    text = page_text(page)
    assert "Join Acme A" in text
    assert (
        "You were invited as <strong>marketer</strong>, at <strong>newbie@example.com</strong>."
        in text
    )
    assert 'name="password"' in text

    response = client.post(path, {"full_name": "Nick Newbie", "password": "a-fresh-passphrase"})
    assert response.status_code == 302
    assert response["Location"] == "/"

    user = User.objects.get(email="newbie@example.com")
    assert user.full_name == "Nick Newbie"
    assert user.check_password("a-fresh-passphrase")
    membership = Membership.objects.get(user=user)
    assert membership.organization == personas.org
    assert membership.role == Role.MARKETER
    invitation = Invitation.objects.get(email="newbie@example.com")
    assert invitation.accepted_by == user
    assert invitation.accepted_at is not None

    dashboard = page_text(client.get("/"))
    assert "<h1>Acme A</h1>" in dashboard
    assert "You joined Acme A as marketer." in dashboard


def test_it_refuses_a_weak_password_when_creating_the_invited_account(client, personas):
    path = invite(personas, "newbie@example.com")
    response = client.post(path, {"full_name": "Nick", "password": "12345678"})
    assert response.status_code == 400
    assert "This password is too common." in page_text(response)
    assert not User.objects.filter(email="newbie@example.com").exists()
    assert Invitation.objects.get(email="newbie@example.com").accepted_at is None


def test_it_lets_a_signed_in_person_with_the_invited_email_join(personas):
    path = invite(personas, "outsider@b.example.com", Role.VIEWER)
    client = personas.client("outsider")
    page = page_text(client.get(path))
    assert "Join Acme A" in page
    assert 'name="password"' not in page

    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == "/"
    membership = Membership.objects.get(organization=personas.org, user=personas.outsider)
    assert membership.role == Role.VIEWER
    assert "<h1>Acme A</h1>" in page_text(client.get("/"))
    # Their own organization stays theirs.
    assert (
        Membership.objects.get(organization=personas.other_org, user=personas.outsider).role
        == Role.OWNER
    )


def test_it_sends_an_existing_account_that_is_signed_out_to_log_in(client, personas):
    make_user("known@example.com")
    path = invite(personas, "known@example.com")
    page = client.get(path)
    assert page.status_code == 200
    assert "You already have an account. Log in as known@example.com to accept." in page_text(page)

    response = client.post(path, {"full_name": "Intruder", "password": "a-fresh-passphrase"})
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"
    assert not Membership.objects.filter(user__email="known@example.com").exists()

    login = client.post(
        f"/login/?next={path}",
        {"username": "known@example.com", "password": PASSWORD, "next": path},
    )
    assert login["Location"] == path
    assert client.post(path).status_code == 302
    assert Membership.objects.filter(
        organization=personas.org, user__email="known@example.com"
    ).exists()


def test_it_refuses_a_signed_in_person_with_another_email(personas):
    path = invite(personas, "someone@example.com")
    client = personas.client("outsider")
    page = page_text(client.get(path))
    assert "Only someone@example.com can accept this invitation." in page

    response = client.post(path)
    assert response.status_code == 400
    assert (
        "This invitation was sent to someone@example.com, but you are signed in as "
        "outsider@b.example.com." in page_text(response)
    )
    assert not Membership.objects.filter(organization=personas.org, user=personas.outsider).exists()
    assert Invitation.objects.get(email="someone@example.com").accepted_at is None


def test_it_accepts_each_link_only_once(client, personas):
    path = invite(personas, "newbie@example.com")
    client.post(path, {"full_name": "Nick", "password": "a-fresh-passphrase"})
    assert Membership.objects.filter(user__email="newbie@example.com").count() == 1

    again = client.get(path)
    assert again.status_code == 410
    assert "This invitation has already been used." in page_text(again)

    other = Client(HTTP_X_FORWARDED_PROTO="https")
    response = other.post(path, {"full_name": "Nick", "password": "a-fresh-passphrase"})
    assert response.status_code == 410
    assert "This invitation has already been used." in page_text(response)
    assert Membership.objects.filter(user__email="newbie@example.com").count() == 1


def test_it_refuses_an_expired_invitation(client, personas):
    path = invite(personas, "late@example.com")
    Invitation.objects.filter(email="late@example.com").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    page = client.get(path)
    assert page.status_code == 410
    assert "This invitation has expired." in page_text(page)

    response = client.post(path, {"full_name": "Late", "password": "a-fresh-passphrase"})
    assert response.status_code == 410
    assert "This invitation has expired." in page_text(response)
    assert not User.objects.filter(email="late@example.com").exists()


def test_it_refuses_an_unknown_link(client, db):
    response = client.post("/invitations/made-up-token/", {"full_name": "X", "password": "y" * 12})
    assert response.status_code == 410
    assert "This invitation link is not valid." in page_text(response)
    assert not User.objects.exists()


def test_it_revokes_an_invitation_and_its_link_stops_working(client, personas):
    path = invite(personas, "gone@example.com")
    invitation = Invitation.objects.get(email="gone@example.com")
    admin = personas.client("admin")
    assert "gone@example.com" in page_text(admin.get("/settings/members/"))

    response = admin.post(f"/settings/invitations/{invitation.public_id}/revoke/", follow=True)
    assert response.redirect_chain == [("/settings/members/", 302)]
    page = page_text(response)
    assert "The invitation to gone@example.com was revoked." in page
    assert "No pending invitations." in page
    assert not Invitation.objects.filter(pk=invitation.pk).exists()

    link = client.get(path)
    assert link.status_code == 410
    assert "This invitation link is not valid." in page_text(link)
    attempt = client.post(path, {"full_name": "Gone", "password": "a-fresh-passphrase"})
    assert attempt.status_code == 410
    assert not User.objects.filter(email="gone@example.com").exists()


def test_it_does_not_revoke_an_invitation_already_used(client, personas):
    path = invite(personas, "newbie@example.com")
    client.post(path, {"full_name": "Nick", "password": "a-fresh-passphrase"})
    invitation = Invitation.objects.get(email="newbie@example.com")

    response = personas.client("admin").post(
        f"/settings/invitations/{invitation.public_id}/revoke/", follow=True
    )
    assert "This invitation has already been used." in page_text(response)
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    assert Membership.objects.filter(user__email="newbie@example.com").exists()


def test_it_hides_invitations_of_an_organization_being_deleted(client, personas):
    path = invite(personas, "newbie@example.com")
    Organization.objects.filter(pk=personas.org.pk).update(deletion_requested_at=timezone.now())
    response = client.get(path)
    assert response.status_code == 410
    assert "This invitation link is not valid." in page_text(response)
