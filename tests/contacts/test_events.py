"""The contacts room's events: sent after commit, once per change actually made."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import phonenumbers
import pytest
from django.db import connection, transaction

from contacts import signals
from contacts.models import OPT_OUT_TAG, ConsentSource, Contact, ContactTag, Tag
from contacts.services.consent import consent_opt_in, consent_opt_out
from contacts.services.contacts import (
    contact_create,
    contact_delete,
    contact_update,
    contact_upsert,
)
from contacts.services.tags import contact_tags_add, contact_tags_remove, contacts_tag_bulk_add
from tenants.errors import ApplicationError, ConflictError

pytestmark = pytest.mark.django_db

ALICE = "+14155550123"
BOB = "+14155550177"
SIGNALS = ("contact_created", "tag_added", "tag_removed", "opted_out", "opted_in")

Received = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def events() -> Iterator[Received]:
    """Every event sent, in order, as (signal name, payload)."""
    received: Received = []
    connected = []
    for name in SIGNALS:
        signal = getattr(signals, name)

        def receiver(sender: Any, *, signal: Any, _name: str = name, **payload: Any) -> None:
            assert sender is None
            received.append((_name, payload))

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
    yield received
    for signal, receiver in connected:
        assert signal.disconnect(receiver)


class Rollback(Exception):
    pass


def _run_then_roll_back(work: Callable[[], object]) -> None:
    with transaction.atomic():
        work()
        raise Rollback


def run_rolled_back(work: Callable[[], object]) -> None:
    """Runs ``work`` inside a transaction that is then rolled back by an exception."""
    with pytest.raises(Rollback):
        _run_then_roll_back(work)


def create(personas, phone=ALICE, **data):
    return contact_create(organization=personas.org, source="ui", phone=phone, **data)


def tag_id(personas, name: str) -> int:
    return Tag.objects.get(organization=personas.org, name__iexact=name).pk


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
        ("tag_removed", {**base, "tag_id": tag_id(personas, "vip"), "tag_name": "vip"}),
        ("tag_added", {**base, "tag_id": tag_id(personas, "gold"), "tag_name": "gold"}),
    ]


def test_it_announces_nothing_for_an_update_of_fields_or_an_upsert_of_a_known_number(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas, tags=["vip"])

    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=alice, source="ui", first_name="Alice", tags=["vip"])
        contact_upsert(organization=personas.org, phone="(415) 555-0123", source="import")

    assert events == []


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


def test_it_announces_an_opt_out_and_an_opt_in_with_the_number(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas, tags=["vip"])

    with django_capture_on_commit_callbacks(execute=True):
        consent_opt_out(
            organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD
        )
    with django_capture_on_commit_callbacks(execute=True):
        consent_opt_in(
            organization=personas.org, phone=ALICE, source=ConsentSource.TWILIO_OPT_OUT_TYPE
        )

    base = {"organization_id": personas.org.pk, "contact_ids": [alice.pk], "phone": ALICE}
    assert events == [
        ("opted_out", {**base, "source": "inbound"}),
        ("opted_in", {**base, "source": "inbound"}),
    ]


@pytest.mark.parametrize(
    ("consent_source", "event_source", "expected"),
    [
        (ConsentSource.USER, None, "ui"),
        (ConsentSource.USER, "api", "api"),
        (ConsentSource.IMPORT, None, "import"),
        (ConsentSource.TWILIO_ERROR_21610, None, "webhook"),
        (ConsentSource.INBOUND_KEYWORD, None, "inbound"),
        (ConsentSource.TWILIO_OPT_OUT_TYPE, None, "inbound"),
        (ConsentSource.INBOUND_KEYWORD, "automation", "automation"),
    ],
)
def test_it_names_the_source_of_an_opt_out(
    personas, events, django_capture_on_commit_callbacks, consent_source, event_source, expected
):
    alice = create(personas)

    with django_capture_on_commit_callbacks(execute=True):
        consent_opt_out(
            organization=personas.org,
            phone=ALICE,
            source=consent_source,
            event_source=event_source,
        )

    assert events == [
        (
            "opted_out",
            {
                "organization_id": personas.org.pk,
                "contact_ids": [alice.pk],
                "source": expected,
                "phone": ALICE,
            },
        )
    ]


def test_it_announces_the_opt_out_of_a_number_without_a_contact(
    personas, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consent_opt_out(organization=personas.org, phone=BOB, source=ConsentSource.INBOUND_KEYWORD)

    assert events == [
        (
            "opted_out",
            {
                "organization_id": personas.org.pk,
                "contact_ids": [],
                "source": "inbound",
                "phone": BOB,
            },
        )
    ]


def test_it_announces_nothing_when_consent_does_not_change(
    personas, events, django_capture_on_commit_callbacks
):
    create(personas)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert (
            consent_opt_out(
                organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD
            )
            is False
        )
        assert (
            consent_opt_in(organization=personas.org, phone=BOB, source=ConsentSource.USER) is False
        )

    assert callbacks == []
    assert events == []


def test_it_announces_nothing_for_a_refused_opt_in(
    personas, events, django_capture_on_commit_callbacks
):
    create(personas)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ConflictError):
        consent_opt_in(organization=personas.org, phone=ALICE, source=ConsentSource.USER)

    assert events == []


# --- The reserved tag -------------------------------------------------------------------


def test_it_announces_no_tag_change_for_the_opt_out_tag(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas)

    with django_capture_on_commit_callbacks(execute=True):
        consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
    assert alice.tags.filter(name=OPT_OUT_TAG).exists()
    with django_capture_on_commit_callbacks(execute=True):
        consent_opt_in(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
    assert not alice.tags.filter(name=OPT_OUT_TAG).exists()

    assert [name for name, _payload in events] == ["opted_out", "opted_in"]


def test_it_announces_only_the_new_contact_when_it_comes_back_opted_out(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD)
    contact_delete(contact=alice)

    with django_capture_on_commit_callbacks(execute=True):
        again = create(personas)

    assert again.tags.filter(name=OPT_OUT_TAG).exists()
    assert events == [
        (
            "contact_created",
            {"organization_id": personas.org.pk, "contact_ids": [again.pk], "source": "ui"},
        )
    ]


def test_it_announces_no_tag_change_when_a_new_number_brings_the_opt_out_tag(
    personas, events, django_capture_on_commit_callbacks
):
    consent_opt_out(organization=personas.org, phone=BOB, source=ConsentSource.INBOUND_KEYWORD)
    alice = create(personas)

    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=alice, source="ui", phone=BOB)
        contact_update(contact=alice, source="ui", phone=ALICE)

    assert events == []


def test_it_announces_nothing_when_the_opt_out_tag_is_refused(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ApplicationError):
            contact_tags_add(contact=alice, names=["vip", OPT_OUT_TAG], source="ui")
        with pytest.raises(ApplicationError):
            create(personas, BOB, tags=["twilio-message-STOP"])

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
    for _name, payload in events:
        assert {k: v for k, v in payload.items() if k != "contact_ids"} == {
            "organization_id": personas.org.pk,
            "source": "ui",
            "tag_id": promo,
            "tag_name": "promo",
        }
    assert ContactTag.objects.filter(tag_id=promo).count() == 2501


# --- Rollback ---------------------------------------------------------------------------


def test_it_announces_nothing_when_the_transaction_rolls_back(
    personas, events, django_capture_on_commit_callbacks
):
    alice = create(personas, tags=["old"])

    def work() -> None:
        queued = len(connection.run_on_commit)
        create(personas, BOB, tags=["vip"])
        contact_tags_add(contact=alice, names=["new"], source="ui")
        contact_tags_remove(contact=alice, names=["old"], source="ui")
        contacts_tag_bulk_add(
            organization=personas.org,
            contacts=Contact.objects.filter(pk=alice.pk),
            name="bulk",
            source="ui",
        )
        consent_opt_out(
            organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD
        )
        # The changes were made (and their events queued) before the rollback.
        assert Contact.objects.filter(phone=BOB).exists()
        assert sorted(alice.tags.values_list("name", flat=True)) == sorted(
            ["bulk", "new", OPT_OUT_TAG]
        )
        # contact_created, 3 tag_added, tag_removed, opted_out
        assert len(connection.run_on_commit) - queued == 6

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_rolled_back(work)

    assert callbacks == []
    assert events == []
    assert not Contact.objects.filter(phone=BOB).exists()
    assert sorted(alice.tags.values_list("name", flat=True)) == ["old"]


def test_it_announces_nothing_when_an_opt_in_rolls_back(
    personas, events, django_capture_on_commit_callbacks
):
    create(personas)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_rolled_back(
            lambda: consent_opt_in(
                organization=personas.org, phone=ALICE, source=ConsentSource.USER
            )
        )

    assert callbacks == []
    assert events == []


def test_it_announces_what_committed_but_not_what_rolled_back_after_it(
    personas, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice = create(personas)
        run_rolled_back(lambda: contact_tags_add(contact=alice, names=["vip"], source="ui"))

    assert [name for name, _payload in events] == ["contact_created"]
