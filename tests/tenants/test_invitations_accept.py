"""Accepting an invitation: a new account, a signed-in or signed-out existing one, and links
that no longer work (used, expired, unknown, revoked, of an organization being deleted)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tenants.models import Invitation, Membership, Organization, Role, User
from tests.factories import PASSWORD, make_user, page_text
from tests.tenants.invitation_helpers import invite

pytestmark = pytest.mark.django_db


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
