from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenants.actor import Actor
from tenants.errors import ApplicationError
from tenants.models import ApiKey, Invitation, Membership, Organization, Role, User
from tenants.services import organizations
from tenants.services.api_keys import api_key_authenticate, api_key_create
from tenants.services.members import invitation_create
from tenants.services.organizations import organization_create, organization_request_deletion
from tests.factories import PASSWORD, make_member, make_user

pytestmark = pytest.mark.django_db


def test_it_gives_organizations_unique_slugs():
    owner = make_user()
    slugs = [organization_create(name="Acme & Co", owner=owner).slug for _ in range(3)]
    assert slugs == ["acme-co", "acme-co-2", "acme-co-3"]
    assert Membership.objects.filter(user=owner, role=Role.OWNER).count() == 3


def test_it_refuses_an_organization_with_a_bad_time_zone():
    owner = make_user()
    with pytest.raises(ApplicationError) as excinfo:
        organization_create(name="X", owner=owner, time_zone="Mars/Base")
    assert "time_zone" in excinfo.value.fields
    assert not Organization.objects.exists()


def test_a_key_with_the_right_prefix_but_wrong_secret_is_refused(personas):
    _key, raw = api_key_create(organization=personas.org, name="k", role=Role.ADMIN)
    assert api_key_authenticate(raw) is not None
    assert api_key_authenticate(raw[:-4] + "AAAA") is None
    assert api_key_authenticate(raw.replace("smsh_", "xxxx_")) is None


def test_key_hashes_are_stored_never_keys(personas):
    _key, raw = api_key_create(organization=personas.org, name="k", role=Role.ADMIN)
    stored = ApiKey.objects.get(name="k")
    assert raw.split("_", 2)[2] not in repr(stored.__dict__)
    assert repr(stored) == f"<ApiKey {stored.prefix}… admin>"


def test_tenant_models_are_deleted_dependents_first():
    ordered = organizations._tenant_models()
    assert {Membership, Invitation, ApiKey} <= set(ordered)
    assert Organization not in ordered


def test_purge_deletes_in_batches_and_leaves_other_organizations(personas, monkeypatch):
    monkeypatch.setattr(organizations, "PURGE_BATCH_SIZE", 2)
    for n in range(5):
        make_member(personas.org, Role.VIEWER, f"extra{n}@a.example.com")
    invitation_create(
        organization=personas.org,
        email="later@a.example.com",
        role=Role.VIEWER,
        by=Actor.for_membership(personas.membership("owner")),
    )
    api_key_create(organization=personas.org, name="k", role=Role.ADMIN)
    api_key_create(organization=personas.other_org, name="theirs", role=Role.ADMIN)
    owner = Actor.for_membership(personas.membership("owner"))
    organization_request_deletion(organization=personas.org, by=owner, confirmation="Acme A")

    counts = organizations.organization_purge(organization_id=personas.org.pk)

    # The invitation and the key were audited: the purge deletes those events too.
    assert counts == {
        "audit.AuditEvent": 2,
        "tenants.Membership": 9,
        "tenants.Invitation": 1,
        "tenants.ApiKey": 1,
    }
    assert not Organization.objects.filter(pk=personas.org.pk).exists()
    assert Membership.objects.filter(organization=personas.other_org).count() == 1
    assert ApiKey.objects.filter(organization=personas.other_org).count() == 1
    # People are not tenant data: they may belong elsewhere and can sign in to start again.
    assert User.objects.filter(email="viewer@a.example.com").exists()


def test_purge_ignores_an_organization_not_marked_for_deletion(personas):
    assert organizations.organization_purge(organization_id=personas.org.pk) == {}
    assert Organization.objects.filter(pk=personas.org.pk).exists()


def test_create_organization_prints_the_slug_on_its_last_line():
    out = StringIO()
    call_command(
        "create_organization",
        "Scripted Org",
        "--owner-email",
        "Script@Example.com",
        "--owner-password",
        PASSWORD,
        stdout=out,
    )
    assert out.getvalue().splitlines()[-1] == "scripted-org"
    owner = User.objects.get(email="script@example.com")
    assert owner.check_password(PASSWORD)
    assert Membership.objects.get(user=owner).role == Role.OWNER


def test_create_organization_refuses_an_existing_user_with_another_password():
    make_user("taken@example.com")
    with pytest.raises(CommandError, match="password does not match"):
        call_command(
            "create_organization",
            "X",
            "--owner-email",
            "taken@example.com",
            "--owner-password",
            "something-else-entirely",
        )
    assert not Organization.objects.exists()


def test_create_organization_refuses_a_weak_password():
    with pytest.raises(CommandError, match="password"):
        call_command(
            "create_organization", "X", "--owner-email", "a@b.co", "--owner-password", "123"
        )
    assert not User.objects.exists()


def test_create_api_key_prints_only_the_key(personas):
    out = StringIO()
    call_command("create_api_key", personas.org.slug, "--name", "CI", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    api_key = api_key_authenticate(lines[0])
    assert api_key is not None
    assert (api_key.name, api_key.role, api_key.organization) == ("CI", "admin", personas.org)


def test_create_api_key_takes_a_role(personas):
    out = StringIO()
    call_command(
        "create_api_key", personas.org.slug, "--name", "BI", "--role", "viewer", stdout=out
    )
    api_key = api_key_authenticate(out.getvalue().strip())
    assert api_key is not None
    assert api_key.role == Role.VIEWER


def test_create_api_key_refuses_an_unknown_organization(personas):
    with pytest.raises(CommandError, match="No organization with the slug “nope”"):
        call_command("create_api_key", "nope", "--name", "x")
    assert not ApiKey.objects.exists()


def test_setup_demo_is_idempotent():
    call_command("setup_demo", "--password", PASSWORD, stdout=StringIO())
    call_command("setup_demo", "--password", PASSWORD, stdout=StringIO())
    user = User.objects.get(email="demo@example.com")
    assert Membership.objects.filter(user=user, role=Role.OWNER).count() == 1
    assert user.check_password(PASSWORD)
