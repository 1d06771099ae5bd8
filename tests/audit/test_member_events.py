"""Members, invitations and API keys: each change recorded with who made it, and a refused
change recording nothing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from tenants.models import ApiKey, Invitation, Membership, Role
from tests.audit.helpers import ADDRESS, api, browser, by_key, by_member, by_operator, events, one
from tests.tenants.invitation_helpers import invite

pytestmark = pytest.mark.django_db


def test_inviting_and_joining_are_recorded_with_the_inviter_and_the_newcomer(personas):
    client = browser(personas, "admin")

    response = client.post(
        "/settings/members/", {"email": "newbie@example.com", "role": "marketer"}
    )

    assert response.status_code == 200
    invited = one(personas.org, "member.invited")
    by_member(invited, personas, "admin")
    invitation = Invitation.objects.get(email="newbie@example.com")
    assert (invited.target_type, invited.target_id, invited.target_label) == (
        "invitation",
        str(invitation.public_id),
        "newbie@example.com",
    )
    assert invited.changes == {"role": {"before": None, "after": "marketer"}}

    path = invite(personas, "second@example.com")
    newcomer = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=ADDRESS)
    newcomer.post(path, {"full_name": "Sam", "password": "a-fresh-passphrase"})

    joined = one(personas.org, "member.joined")
    membership = Membership.objects.get(user__email="second@example.com")
    assert (joined.actor_type, joined.actor_user_id) == ("user", membership.user_id)
    assert (joined.actor_label, joined.address) == ("second@example.com", ADDRESS)
    assert (joined.target_type, joined.target_id) == ("member", str(membership.public_id))
    assert joined.changes == {"role": {"before": None, "after": "marketer"}}
    assert path.split("/")[2] not in json.dumps([e.changes for e in events(personas.org)])


def test_revoking_an_invitation_is_recorded(personas):
    invite(personas, "gone@example.com")
    invitation = Invitation.objects.get(email="gone@example.com")

    browser(personas, "admin").post(f"/settings/invitations/{invitation.public_id}/revoke/")

    event = one(personas.org, "invitation.revoked")
    by_member(event, personas, "admin")
    assert (event.target_id, event.target_label) == (str(invitation.public_id), "gone@example.com")
    assert not Invitation.objects.filter(pk=invitation.pk).exists()


def test_a_role_change_records_before_and_after_and_a_refused_one_nothing(personas):
    viewer = personas.membership("viewer")
    owner = personas.membership("owner")
    client = browser(personas, "owner")

    client.post(f"/settings/members/{viewer.public_id}/role/", {"role": "marketer"})
    client.post(f"/settings/members/{owner.public_id}/role/", {"role": "admin"})  # the last owner

    event = one(personas.org, "member.role_changed")
    by_member(event, personas, "owner")
    assert (event.target_type, event.target_label) == ("member", "viewer@a.example.com")
    assert event.changes == {"role": {"before": "viewer", "after": "marketer"}}
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_removing_a_member_through_the_api_records_the_key(personas):
    marketer = personas.membership("marketer")

    response = api(personas, "admin").delete(f"/api/v1/members/{marketer.public_id}/")

    assert response.status_code == 204
    event = one(personas.org, "member.removed")
    by_key(event, "admin")
    assert (event.target_id, event.target_label) == (
        str(marketer.public_id),
        "marketer@a.example.com",
    )
    assert event.changes == {"role": {"before": "marketer", "after": None}}


def test_api_keys_created_on_the_page_and_revoked_through_the_api_never_show_the_key(personas):
    client = browser(personas, "admin")

    response = client.post("/settings/api-keys/", {"name": "CRM sync", "role": "viewer"})

    created = one(personas.org, "api_key.created")
    by_member(created, personas, "admin")
    key = ApiKey.objects.get(name="CRM sync")
    assert (created.target_type, created.target_id) == ("api_key", str(key.public_id))
    assert created.target_label == f"API key “CRM sync” (smsh_{key.prefix}_…)"
    assert created.changes == {"role": {"before": None, "after": "viewer"}}
    shown = response.context["new_key"]
    assert shown.split("_")[2] not in json.dumps(created.changes) + created.target_label

    api(personas, "admin").delete(f"/api/v1/api-keys/{key.public_id}/")

    revoked = one(personas.org, "api_key.revoked")
    by_key(revoked, "admin")
    assert revoked.target_id == str(key.public_id)


def test_revoking_a_revoked_key_records_nothing_more(personas):
    client = api(personas, "admin")
    key = ApiKey.objects.get(name="admin")

    client.delete(f"/api/v1/api-keys/{key.public_id}/")
    response = api(personas, "owner").delete(f"/api/v1/api-keys/{key.public_id}/")

    assert response.status_code == 409
    assert len(events(personas.org, "api_key.revoked")) == 1


def test_a_key_made_at_the_command_line_is_the_operators(personas):
    call_command("create_api_key", personas.org.slug, "--name", "Cron", stdout=StringIO())

    event = one(personas.org, "api_key.created")
    by_operator(event)
    assert event.target_label.startswith("API key “Cron”")
