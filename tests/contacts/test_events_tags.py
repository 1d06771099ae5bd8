"""Events for new contacts and their tags: once per change, after commit, and in bulk."""

from __future__ import annotations

import phonenumbers
import pytest

from contacts.models import Contact, ContactTag
from contacts.services.contacts import contact_create, contact_update, contact_upsert
from contacts.services.tags import contact_tags_add, contact_tags_remove, contacts_tag_bulk_add
from tenants.errors import ConflictError
from tests.contacts.helpers import ALICE, BOB, create, tag_id

pytestmark = pytest.mark.django_db


# --- Each event, once, after commit -----------------------------------------------------


def test_it_announces_a_new_contact_after_commit(
    personas, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice = create(personas)
        assert events == []  # not before the commit

    assert events == [
        (
            "contact_created",
            {"organization_id": personas.org.pk, "contact_ids": [alice.pk], "source": "ui"},
        )
    ]


def test_it_announces_a_new_contact_then_each_of_its_tags(
    personas, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice = contact_create(
            organization=personas.org, source="api", phone=ALICE, tags=["vip", "VIP", "news"]
        )

    base = {"organization_id": personas.org.pk, "contact_ids": [alice.pk], "source": "api"}
    assert events == [
        ("contact_created", base),
        ("tag_added", {**base, "tag_id": tag_id(personas, "vip"), "tag_name": "vip"}),
        ("tag_added", {**base, "tag_id": tag_id(personas, "news"), "tag_name": "news"}),
    ]


def test_it_announces_a_tag_added_with_the_stored_spelling(
    personas, events, django_capture_on_commit_callbacks
):
    create(personas, BOB, tags=["Vip"])
    alice = create(personas)

    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_add(contact=alice, names=["VIP"], source="automation")

    assert events == [
        (
            "tag_added",
            {
                "organization_id": personas.org.pk,
                "contact_ids": [alice.pk],
                "source": "automation",
                "tag_id": tag_id(personas, "vip"),
                "tag_name": "Vip",
            },
        )
    ]


def test_it_announces_nothing_when_the_tag_is_already_there(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas, tags=["vip"])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert contact_tags_add(contact=alice, names=["VIP", "vip"], source="ui") == []
        contact_upsert(organization=personas.org, phone=ALICE, source="import", tags=["Vip"])
        contacts_tag_bulk_add(
            organization=personas.org,
            contacts=Contact.objects.filter(pk=alice.pk),
            name="vip",
            source="ui",
        )

    assert callbacks == []
    assert events == []


def test_it_announces_a_tag_removed_once(personas, events, django_capture_on_commit_callbacks):
    alice = create(personas, tags=["vip"])
    vip = tag_id(personas, "vip")

    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_remove(contact=alice, names=["VIP"], source="ui")
        contact_tags_remove(contact=alice, names=["vip", "ghost"], source="ui")

    assert events == [
        (
            "tag_removed",
            {
                "organization_id": personas.org.pk,
                "contact_ids": [alice.pk],
                "source": "ui",
                "tag_id": vip,
                "tag_name": "vip",
            },
        )
    ]


def test_it_announces_the_tags_a_replacement_adds_and_removes(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas, tags=["vip", "news"])

    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=alice, source="api", first_name="Alice", tags=["NEWS", "gold"])

    base = {"organization_id": personas.org.pk, "contact_ids": [alice.pk], "source": "api"}
    assert events == [
        ("contact_updated", {**base, "fields": ["first_name"]}),
        ("tag_removed", {**base, "tag_id": tag_id(personas, "vip"), "tag_name": "vip"}),
        ("tag_added", {**base, "tag_id": tag_id(personas, "gold"), "tag_name": "gold"}),
    ]


def test_it_announces_no_tag_event_for_an_update_of_fields_or_an_upsert_of_a_known_number(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas, tags=["vip"])

    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=alice, source="ui", first_name="Alice", tags=["vip"])
        contact_upsert(organization=personas.org, phone="(415) 555-0123", source="import")

    base = {"organization_id": personas.org.pk, "contact_ids": [alice.pk], "source": "ui"}
    assert events == [("contact_updated", {**base, "fields": ["first_name"]})]


def test_it_announces_a_contact_an_import_creates_with_its_tags(
    personas, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice, created = contact_upsert(
            organization=personas.org, phone="(415) 555-0123", source="import", tags=["vip"]
        )

    assert created is True
    base = {"organization_id": personas.org.pk, "contact_ids": [alice.pk], "source": "import"}
    assert events == [
        ("contact_created", base),
        ("tag_added", {**base, "tag_id": tag_id(personas, "vip"), "tag_name": "vip"}),
    ]


def test_it_announces_nothing_for_a_refused_duplicate(
    personas, events, django_capture_on_commit_callbacks
):
    create(personas)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ConflictError),
    ):
        create(personas, "+1 415-555-0123", tags=["vip"])

    assert callbacks == []
    assert events == []


# --- Bulk -------------------------------------------------------------------------------


def bulk_contacts(personas, count: int) -> list[int]:
    contacts = []
    for n in range(count):
        phone = f"+1415{2000000 + n:07d}"
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
        contact = Contact(organization=personas.org, phone=phone, time_zone="America/Los_Angeles")
        contact.search = contact.search_text()
        contacts.append(contact)
    Contact.objects.bulk_create(contacts)
    return list(
        Contact.objects.filter(organization=personas.org)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def test_it_announces_a_bulk_tag_in_chunks_of_a_thousand(
    personas, events, django_capture_on_commit_callbacks
):
    ids = bulk_contacts(personas, 2501)
    already = Contact.objects.get(pk=ids[0])
    contact_tags_add(contact=already, names=["promo"], source="ui")
    promo = tag_id(personas, "promo")

    with django_capture_on_commit_callbacks(execute=True):
        gained = contacts_tag_bulk_add(
            organization=personas.org,
            contacts=Contact.objects.filter(organization=personas.org),
            name="Promo",
            source="ui",
        )

    assert gained == 2500
    assert [name for name, _payload in events] == ["tag_added"] * 3
    assert [len(payload["contact_ids"]) for _name, payload in events] == [1000, 1000, 500]
    sent = [pk for _name, payload in events for pk in payload["contact_ids"]]
    assert sent == ids[1:]
    # Every chunk names the whole change: one key, its total.
    [batch] = {payload["batch"]["key"] for _name, payload in events}
    for _name, payload in events:
        assert {k: v for k, v in payload.items() if k != "contact_ids"} == {
            "organization_id": personas.org.pk,
            "source": "ui",
            "tag_id": promo,
            "tag_name": "promo",
            "batch": {"key": batch, "total": 2500},
        }
    assert ContactTag.objects.filter(tag_id=promo).count() == 2501
