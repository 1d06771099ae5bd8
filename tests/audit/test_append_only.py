"""Append-only: the ORM and SQL refuse to change or delete an event; retention deletes those
past two years, and an organization's purge deletes its own; a change rolled back leaves no
event."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tenants.actor import Actor
from tenants.audit import services
from tenants.audit.models import Action, AppendOnly, AuditEvent
from tenants.audit.services import Target, audit_events_purge, audit_record
from tenants.audit.tasks import expire_audit_events
from tenants.models import Organization, Role, User
from tenants.services.members import membership_change_role
from tenants.services.organizations import organization_purge, organization_request_deletion
from tests.audit.factories import event
from tests.conftest import require_service

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


def fresh(personas) -> AuditEvent:
    return event(personas.org, at=timezone.now(), user=personas.admin)


def test_the_orm_refuses_to_change_or_delete_an_event(personas):
    made = fresh(personas)

    made.target_label = "someone else"
    with pytest.raises(AppendOnly):
        made.save()
    with pytest.raises(AppendOnly):
        made.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=made.pk).update(target_label="edited")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=made.pk).delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=made.pk).update(actor_user=personas.owner)

    stored = AuditEvent.objects.get(pk=made.pk)
    assert (stored.target_label, stored.actor_user_id) == (
        "viewer@a.example.com",
        personas.admin.pk,
    )


def test_sql_refuses_an_update(personas):
    made = fresh(personas)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET target_label = %s WHERE id = %s", ["edited", made.pk])  # noqa: S608

    assert AuditEvent.objects.get(pk=made.pk).target_label == "viewer@a.example.com"


def test_sql_refuses_to_delete_an_event_younger_than_two_years(personas):
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    made = fresh(personas)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [made.pk])  # noqa: S608

    assert AuditEvent.objects.filter(pk=made.pk).exists()


def test_sql_deletes_an_event_past_two_years(personas):
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    old = event(personas.org, at=timezone.now() - datetime.timedelta(days=731))

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [old.pk])  # noqa: S608

    assert not AuditEvent.objects.filter(pk=old.pk).exists()


def test_deleting_a_user_keeps_the_events_label(personas):
    made = fresh(personas)
    admin_id = personas.admin.pk

    User.objects.filter(pk=admin_id).delete()

    stored = AuditEvent.objects.get(pk=made.pk)
    assert (stored.actor_user_id, stored.actor_type, stored.actor_label) == (
        None,
        "user",
        "admin@a.example.com",
    )


def test_retention_deletes_only_events_past_two_years_in_batches(personas, monkeypatch):
    monkeypatch.setattr(services, "RETENTION_BATCH", 2)
    now = timezone.now()
    old = [event(personas.org, at=now - datetime.timedelta(days=731 + n)) for n in range(3)]
    theirs = event(personas.other_org, at=now - datetime.timedelta(days=800))
    kept = event(personas.org, at=now - datetime.timedelta(days=729))

    assert expire_audit_events.delay().get() == 4

    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in [*old, theirs]]).exists()
    assert expire_audit_events.delay().get() == 0


def test_the_purge_of_a_deleted_organization_deletes_its_events_and_no_others(personas):
    fresh(personas)
    theirs = event(personas.other_org, at=timezone.now())
    owner = Actor.for_membership(personas.membership("owner"))
    organization_request_deletion(organization=personas.org, by=owner, confirmation="Acme A")

    counts = organization_purge(organization_id=personas.org.pk)

    assert counts["audit.AuditEvent"] == 1
    assert not Organization.objects.filter(pk=personas.org.pk).exists()
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_only_an_organization_being_deleted_has_its_events_purged(personas):
    fresh(personas)

    with pytest.raises(ValueError, match="purged organization"):
        audit_events_purge(organization=personas.org)

    assert AuditEvent.objects.count() == 1


def test_a_change_rolled_back_leaves_no_event(personas):
    membership = personas.membership("viewer")
    by = Actor.for_membership(personas.membership("owner"))

    def change_then_fail() -> None:
        with transaction.atomic():
            membership_change_role(membership=membership, role=Role.MARKETER, by=by)
            raise RuntimeError("the request failed after the change")

    with pytest.raises(RuntimeError):
        change_then_fail()

    assert AuditEvent.objects.filter(action="member.role_changed").count() == 0


def test_a_secrets_value_is_never_recorded(personas):
    with pytest.raises(ValueError, match="auth_token"):
        audit_record(
            organization=personas.org,
            action=Action.CONNECTION_CHANGED,
            target=Target(type="connection"),
            changes={"auth_token": {"before": None, "after": "0f1e2d3c"}},
        )

    assert AuditEvent.objects.count() == 0
