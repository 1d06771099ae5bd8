"""``contact_updated`` (with the fields that changed) and ``contact_deleted``: once per change,
after the commit, never for a rollback or for a change that changes nothing."""

from __future__ import annotations

import pytest
from django.db import transaction

from contacts.models import ConsentSource, ConsentState, Contact
from contacts.services.consent import consent_opt_out
from contacts.services.contacts import contact_delete, contact_update, contact_upsert
from tenants.services.api_keys import api_key_create
from tests.contacts.helpers import ALICE, BOB, create

pytestmark = pytest.mark.django_db


def base(personas, contact: Contact, source: str) -> dict:
    return {"organization_id": personas.org.pk, "contact_ids": [contact.pk], "source": source}


def test_it_announces_the_fields_that_changed_with_custom_fields_by_key(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(
        personas,
        first_name="Alice",
        email="alice@example.com",
        custom_fields={"plan": "gold", "city": "Paris", "birthday": "1990-05-04"},
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        contact_update(
            contact=alice,
            source="api",
            first_name="Alice",  # unchanged: not announced
            last_name="Liddell",
            email="ALICE@example.com",  # stored lower-case: unchanged
            custom_fields={"plan": "gold", "birthday": "1990-05-05", "renewal": "2027-01-31"},
        )
        assert events == []  # nothing before the commit

    assert len(callbacks) == 1
    assert events == [
        (
            "contact_updated",
            {
                **base(personas, alice, "api"),
                "fields": ["last_name", "custom.birthday", "custom.city", "custom.renewal"],
            },
        )
    ]
    alice.refresh_from_db()
    assert alice.custom_fields == {
        "plan": "gold",
        "birthday": "1990-05-05",
        "renewal": "2027-01-31",
    }


def test_it_announces_nothing_when_an_update_changes_nothing(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas, first_name="Alice", custom_fields={"plan": "gold"})

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        contact_update(
            contact=alice, source="ui", first_name=" Alice ", custom_fields={"plan": "gold"}
        )
        contact_update(contact=alice, source="ui")

    assert callbacks == []
    assert events == []


def test_it_announces_an_upsert_of_a_known_number_as_an_update_with_its_source(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas, first_name="Alice")

    with django_capture_on_commit_callbacks(execute=True):
        contact, created = contact_upsert(
            organization=personas.org,
            phone="(415) 555-0123",
            source="webhook",
            first_name="Alicia",
            time_zone="Europe/Paris",
        )

    assert (contact.pk, created) == (alice.pk, False)
    assert events == [
        (
            "contact_updated",
            {**base(personas, alice, "webhook"), "fields": ["first_name", "time_zone"]},
        )
    ]


def test_it_announces_a_deleted_contact_with_its_number_and_keeps_its_consent(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
    alice_id = alice.pk
    events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        contact_delete(contact=alice, source="api")

    assert not Contact.objects.filter(pk=alice_id).exists()
    assert ConsentState.objects.get(organization=personas.org, phone=ALICE).opted_out
    assert events == [
        (
            "contact_deleted",
            {
                "organization_id": personas.org.pk,
                "contact_ids": [alice_id],
                "source": "api",
                "phone": ALICE,
            },
        )
    ]


class Rollback(Exception):
    pass


def test_it_announces_no_update_or_deletion_that_rolls_back(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas, first_name="Alice")
    bob = create(personas, BOB)
    bob_id = bob.pk
    events.clear()

    def work() -> None:
        with transaction.atomic():
            contact_update(contact=alice, source="ui", first_name="Alicia")
            contact_delete(contact=bob, source="ui")
            raise Rollback

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Rollback):
        work()

    assert callbacks == []
    assert events == []
    assert Contact.objects.get(pk=alice.pk).first_name == "Alice"
    assert Contact.objects.filter(pk=bob_id).exists()


def test_it_refuses_a_source_outside_the_vocabulary(personas):
    alice = create(personas)

    with pytest.raises(ValueError, match="sync"):
        contact_update(contact=alice, source="sync", first_name="Alicia")


@pytest.mark.parametrize(
    ("path", "source"),
    [("api", "api"), ("page", "ui")],
)
def test_every_interface_announces_a_deletion_with_its_source(
    personas, events, client, django_capture_on_commit_callbacks, path, source
):
    alice = create(personas)
    alice_id = alice.pk
    with django_capture_on_commit_callbacks(execute=True):
        if path == "api":
            _row, key = api_key_create(organization=personas.org, name="CRM", role="marketer")
            response = client.delete(
                f"/api/v1/contacts/{alice.public_id}/", HTTP_AUTHORIZATION=f"Bearer {key}"
            )
            assert response.status_code == 204
        else:
            client.force_login(personas.marketer)
            response = client.post(f"/contacts/{alice.public_id}/delete/")
            assert response.status_code == 302
    assert (
        "contact_deleted",
        {
            "organization_id": personas.org.pk,
            "contact_ids": [alice_id],
            "source": source,
            "phone": ALICE,
        },
    ) in events
