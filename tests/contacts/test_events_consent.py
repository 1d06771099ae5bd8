"""Events for opting out and in, and no tag events for the reserved opt-out tag."""

from __future__ import annotations

import pytest

from contacts.models import OPT_OUT_TAG, ConsentSource
from contacts.services.consent import consent_opt_in, consent_opt_out
from contacts.services.contacts import contact_delete, contact_update
from contacts.services.tags import contact_tags_add
from tenants.errors import ApplicationError, ConflictError
from tests.contacts.helpers import ALICE, BOB, create

pytestmark = pytest.mark.django_db


# --- Opting out and in ------------------------------------------------------------------


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
        (ConsentSource.TWILIO_ERROR_21610, None, "system"),
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
    contact_delete(contact=alice, source="ui")

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

    # The number changed twice; the reserved tag that came and went is no tag event.
    updated = {
        "organization_id": personas.org.pk,
        "contact_ids": [alice.pk],
        "source": "ui",
        "fields": ["phone"],
    }
    assert events == [("contact_updated", updated), ("contact_updated", updated)]


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
