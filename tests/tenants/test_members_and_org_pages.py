"""Managing members, leaving, deleting an organization, and its settings page."""

from __future__ import annotations

import pytest

from tenants.actor import Actor
from tenants.models import ApiKey, Invitation, Membership, Organization, Role, User
from tenants.services.api_keys import api_key_create
from tenants.services.members import invitation_create
from tests.factories import page_text, settings_data

pytestmark = pytest.mark.django_db


def role_path(membership: Membership) -> str:
    return f"/settings/members/{membership.public_id}/role/"


def remove_path(membership: Membership) -> str:
    return f"/settings/members/{membership.public_id}/remove/"


def org_row(organization: Organization) -> dict:
    return dict(Organization.objects.filter(pk=organization.pk).values().get())


# --- Roles ----------------------------------------------------------------------------------


def test_it_lets_an_admin_change_a_members_role(personas):
    viewer = personas.membership("viewer")
    response = personas.client("admin").post(role_path(viewer), {"role": Role.ADMIN}, follow=True)
    assert response.redirect_chain == [("/settings/members/", 302)]
    assert "viewer@a.example.com is now admin." in page_text(response)
    viewer.refresh_from_db()
    assert viewer.role == Role.ADMIN


def test_it_refuses_an_unknown_role(personas):
    viewer = personas.membership("viewer")
    response = personas.client("admin").post(role_path(viewer), {"role": "emperor"}, follow=True)
    assert "Choose one of the roles." in page_text(response)
    viewer.refresh_from_db()
    assert viewer.role == Role.VIEWER


def test_it_does_not_let_an_admin_change_an_owners_role(personas):
    owner = personas.membership("owner")
    response = personas.client("admin").post(role_path(owner), {"role": Role.VIEWER})
    assert response.status_code == 403
    assert "Only an owner can change an owner&#x27;s role." in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_it_does_not_let_an_admin_grant_the_owner_role(personas):
    viewer = personas.membership("viewer")
    response = personas.client("admin").post(role_path(viewer), {"role": Role.OWNER})
    assert response.status_code == 403
    assert "Only an owner can make someone an owner." in response.content.decode()
    viewer.refresh_from_db()
    assert viewer.role == Role.VIEWER


def test_it_lets_an_owner_grant_the_owner_role(personas):
    admin = personas.membership("admin")
    personas.client("owner").post(role_path(admin), {"role": Role.OWNER})
    admin.refresh_from_db()
    assert admin.role == Role.OWNER


def test_it_does_not_demote_the_last_owner(personas):
    owner = personas.membership("owner")
    response = personas.client("owner").post(role_path(owner), {"role": Role.ADMIN}, follow=True)
    assert "This is the last owner. Make someone else an owner first." in page_text(response)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_it_demotes_one_of_two_owners(personas):
    admin = personas.membership("admin")
    Membership.objects.filter(pk=admin.pk).update(role=Role.OWNER)
    owner = personas.membership("owner")

    response = personas.client("admin").post(role_path(owner), {"role": Role.MARKETER})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.role == Role.MARKETER
    # Now the former admin is the last owner, and stays one.
    personas.client("admin").post(role_path(admin), {"role": Role.VIEWER})
    admin.refresh_from_db()
    assert admin.role == Role.OWNER


def test_it_lets_an_owner_step_down_when_another_owner_remains(personas):
    Membership.objects.filter(pk=personas.membership("admin").pk).update(role=Role.OWNER)
    owner = personas.membership("owner")
    personas.client("owner").post(role_path(owner), {"role": Role.ADMIN})
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN
    assert personas.client("owner").get("/settings/delete/").status_code == 403


# --- Removing and leaving -------------------------------------------------------------------


def test_it_confirms_before_removing_a_member(personas):
    viewer = personas.membership("viewer")
    client = personas.client("admin")
    confirmation = client.get(remove_path(viewer))
    assert confirmation.status_code == 200
    page = page_text(confirmation)
    assert "Remove viewer@a.example.com?" in page
    assert "They will lose access to Acme A at once." in page
    assert Membership.objects.filter(pk=viewer.pk).exists()

    response = client.post(remove_path(viewer), follow=True)
    assert response.redirect_chain == [("/settings/members/", 302)]
    assert "viewer@a.example.com was removed." in page_text(response)
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert User.objects.filter(pk=personas.viewer.pk).exists()


def test_a_removed_member_loses_access_at_once(personas):
    viewer_client = personas.client("viewer")
    assert viewer_client.get("/").status_code == 200
    personas.client("admin").post(remove_path(personas.membership("viewer")))
    response = viewer_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/organizations/new/"


def test_it_does_not_let_an_admin_remove_an_owner(personas):
    owner = personas.membership("owner")
    response = personas.client("admin").post(remove_path(owner))
    assert response.status_code == 403
    assert "Only an owner can remove an owner." in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_it_lets_a_viewer_leave(personas):
    viewer = personas.membership("viewer")
    client = personas.client("viewer")
    confirmation = client.get(remove_path(viewer))
    assert confirmation.status_code == 200
    assert "Leave Acme A?" in page_text(confirmation)

    response = client.post(remove_path(viewer))
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert client.get("/")["Location"] == "/organizations/new/"


def test_it_does_not_let_the_last_owner_leave(personas):
    owner = personas.membership("owner")
    response = personas.client("owner").post(remove_path(owner), follow=True)
    assert response.redirect_chain == [("/settings/members/", 302)]
    assert "The last owner cannot leave." in page_text(response)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_it_lets_an_owner_leave_when_another_owner_remains(personas):
    Membership.objects.filter(pk=personas.membership("admin").pk).update(role=Role.OWNER)
    owner = personas.membership("owner")
    response = personas.client("owner").post(remove_path(owner))
    assert response["Location"] == "/"
    assert not Membership.objects.filter(pk=owner.pk).exists()


# --- Deleting the organization --------------------------------------------------------------


WRONG_NAME = "Type the organization's name, “Acme A”, to confirm."


@pytest.mark.parametrize(
    ("confirmation", "error"),
    [
        ("Acme", WRONG_NAME),
        ("acme a", WRONG_NAME),
        ("Beta B", WRONG_NAME),
        ("", "This field is required."),
    ],
)
def test_it_requires_the_exact_name_to_delete(personas, confirmation, error):
    before = org_row(personas.org)
    key, _raw = api_key_create(organization=personas.org, name="CRM", role=Role.ADMIN)
    response = personas.client("owner").post("/settings/delete/", {"confirmation": confirmation})
    assert response.status_code == 400
    assert error in page_text(response)
    assert org_row(personas.org) == before
    key.refresh_from_db()
    assert key.revoked_at is None
    assert "<h1>Acme A</h1>" in page_text(personas.client("viewer").get("/"))


def test_it_deletes_the_organization_for_everyone_then_purges_it(
    personas, django_capture_on_commit_callbacks
):
    owner_actor = Actor.for_membership(personas.membership("owner"))
    invitation_create(
        organization=personas.org, email="pending@example.com", role=Role.VIEWER, by=owner_actor
    )
    key_a, _ = api_key_create(organization=personas.org, name="A key", role=Role.ADMIN)
    key_b, _ = api_key_create(organization=personas.other_org, name="B key", role=Role.ADMIN)
    outsider_actor = Actor.for_membership(personas.membership("outsider"))
    invitation_create(
        organization=personas.other_org,
        email="b-pending@example.com",
        role=Role.VIEWER,
        by=outsider_actor,
    )
    org_a = personas.org.pk

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = personas.client("owner").post("/settings/delete/", {"confirmation": "  Acme A "})
    assert response.status_code == 302
    assert response["Location"] == "/"

    # At once: hidden from every member, and its keys stop working.
    personas.org.refresh_from_db()
    assert personas.org.deletion_requested_at is not None
    key_a.refresh_from_db()
    assert key_a.revoked_at is not None
    for persona in ("owner", "admin", "marketer", "viewer"):
        dashboard = personas.client(persona).get("/")
        assert dashboard.status_code == 302
        assert dashboard["Location"] == "/organizations/new/"

    # Then, after the commit, the background task removes everything it had.
    for callback in callbacks:
        callback()
    assert not Organization.objects.filter(pk=org_a).exists()
    assert not Membership.objects.filter(organization_id=org_a).exists()
    assert not Invitation.objects.filter(organization_id=org_a).exists()
    assert not ApiKey.objects.filter(organization_id=org_a).exists()
    assert User.objects.filter(pk=personas.owner.pk).exists()

    # Organization B is untouched.
    assert Organization.objects.filter(
        pk=personas.other_org.pk, deletion_requested_at=None
    ).exists()
    assert Membership.objects.filter(organization=personas.other_org).count() == 1
    assert Invitation.objects.filter(organization=personas.other_org).count() == 1
    key_b.refresh_from_db()
    assert key_b.revoked_at is None
    assert "<h1>Beta B</h1>" in page_text(personas.client("outsider").get("/"))


def test_it_shows_the_remaining_organization_after_a_deletion(
    personas, django_capture_on_commit_callbacks
):
    Membership.objects.create(organization=personas.other_org, user=personas.viewer, role="viewer")
    with django_capture_on_commit_callbacks(execute=True):
        personas.client("owner").post("/settings/delete/", {"confirmation": "Acme A"})
    assert not Organization.objects.filter(name="Acme A").exists()
    response = personas.client("viewer").get("/")
    assert response.status_code == 200
    assert "<h1>Beta B</h1>" in page_text(response)


# --- Organization settings ------------------------------------------------------------------


def test_it_saves_valid_settings(personas):
    data = settings_data(
        personas.org,
        name="Acme Renamed",
        time_zone="America/New_York",
        default_country="CA",
        send_window_start="09:00",
        send_window_end="20:30",
        frequency_cap="3",
        help_reply="Call us at 555-0100.",
        message_retention_days="90",
    )
    response = personas.client("admin").post("/settings/", data, follow=True)
    assert response.redirect_chain == [("/settings/", 302)]
    assert "Settings saved." in page_text(response)
    personas.org.refresh_from_db()
    assert personas.org.name == "Acme Renamed"
    assert personas.org.time_zone == "America/New_York"
    assert personas.org.default_country == "CA"
    assert personas.org.send_window_start.strftime("%H:%M") == "09:00"
    assert personas.org.send_window_end.strftime("%H:%M") == "20:30"
    assert personas.org.frequency_cap == 3
    assert personas.org.help_reply == "Call us at 555-0100."
    assert personas.org.message_retention_days == 90


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (
            {"send_window_start": "10:00", "send_window_end": "10:00"},
            "The sending window cannot be empty.",
        ),
        ({"message_retention_days": "5"}, "Ensure this value is greater than or equal to 30."),
        ({"message_retention_days": "4000"}, "Ensure this value is less than or equal to 3650."),
        (
            {"time_zone": "Mars/Olympus_Mons"},
            "Select a valid choice. Mars/Olympus_Mons is not one of the available choices.",
        ),
        (
            {"default_country": "XX"},
            "Select a valid choice. XX is not one of the available choices.",
        ),
        ({"frequency_cap": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_it_refuses_invalid_settings(personas, changes, error):
    before = org_row(personas.org)
    # A valid change rides along: the refusal must keep it out of the row too.
    data = settings_data(personas.org, **{"name": "Renamed too", **changes})
    response = personas.client("admin").post("/settings/", data)
    assert response.status_code == 400
    assert error in page_text(response)
    assert org_row(personas.org) == before


def test_it_shows_the_saved_values_after_a_refused_change(personas):
    response = personas.client("owner").post(
        "/settings/", settings_data(personas.org, name="Renamed", message_retention_days="5")
    )
    assert response.status_code == 400
    # The form keeps what was typed; the switcher shows the organization as it is stored.
    page = page_text(response)
    assert 'value="Renamed"' in page
    assert '<span class="org-name">Acme A</span>' in page
    assert '<span class="org-name">Renamed</span>' not in page
