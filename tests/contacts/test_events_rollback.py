"""No event for changes a rolled-back transaction undoes, only for what committed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection, transaction

from contacts.models import OPT_OUT_TAG, ConsentSource, Contact
from contacts.services.consent import consent_opt_in, consent_opt_out
from contacts.services.tags import contact_tags_add, contact_tags_remove, contacts_tag_bulk_add
from tests.contacts.helpers import ALICE, BOB, create

pytestmark = pytest.mark.django_db


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
