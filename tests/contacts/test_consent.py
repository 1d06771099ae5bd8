"""Consent per number: the ledger, the current state and the opt-out tag, always in step."""

from __future__ import annotations

import pytest

from contacts.models import (
    OPT_OUT_TAG,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    Contact,
)
from contacts.selectors import consent_history, is_opted_out
from contacts.services.consent import LOCKED_MESSAGE, consent_help, consent_opt_in, consent_opt_out
from contacts.services.contacts import contact_create, contact_delete, contact_update
from tenants.errors import ConflictError

pytestmark = pytest.mark.django_db

ALICE = "+14155550123"
BOB = "+14155550177"
SID = "SM" + "a" * 32
PERSON_STOPS = [
    ConsentSource.INBOUND_KEYWORD,
    ConsentSource.TWILIO_OPT_OUT_TYPE,
    ConsentSource.TWILIO_ERROR_21610,
]
PERSON_STARTS = [ConsentSource.INBOUND_KEYWORD, ConsentSource.TWILIO_OPT_OUT_TYPE]


def create(personas, phone=ALICE, **data):
    return contact_create(organization=personas.org, source="ui", phone=phone, **data)


def opt_out(personas, source, phone=ALICE, **kwargs):
    return consent_opt_out(organization=personas.org, phone=phone, source=source, **kwargs)


def opt_in(personas, source, phone=ALICE, **kwargs):
    return consent_opt_in(organization=personas.org, phone=phone, source=source, **kwargs)


def ledger(personas, phone=ALICE) -> list[tuple[str, str]]:
    """(kind, source) oldest first."""
    return [
        (e.kind, e.source)
        for e in ConsentEvent.objects.filter(organization=personas.org, phone=phone).order_by("pk")
    ]


def state(personas, phone=ALICE) -> ConsentState:
    return ConsentState.objects.get(organization=personas.org, phone=phone)


def has_opt_out_tag(contact: Contact) -> bool:
    return contact.tags.filter(name=OPT_OUT_TAG).exists()


# --- In step ----------------------------------------------------------------------------


def test_it_keeps_ledger_state_and_tag_in_step_through_an_opt_out_and_an_opt_in(personas):
    alice = create(personas, tags=["vip"])

    assert opt_out(personas, ConsentSource.INBOUND_KEYWORD, message_sid=SID) is True

    event = ConsentEvent.objects.get(organization=personas.org, phone=ALICE)
    assert event.kind == ConsentKind.OPT_OUT
    assert event.source == ConsentSource.INBOUND_KEYWORD
    assert event.contact == alice
    assert event.message_sid == SID
    assert event.user is None
    assert event.created_at is not None
    current = state(personas)
    assert current.opted_out is True
    assert current.opted_out_at is not None
    assert current.opt_out_source == ConsentSource.INBOUND_KEYWORD
    assert current.locked is True
    assert is_opted_out(personas.org, ALICE)
    assert sorted(alice.tags.values_list("name", flat=True)) == sorted(["vip", OPT_OUT_TAG])

    assert opt_in(personas, ConsentSource.INBOUND_KEYWORD, message_sid="SM" + "b" * 32) is True

    assert ledger(personas) == [
        (ConsentKind.OPT_OUT, ConsentSource.INBOUND_KEYWORD),
        (ConsentKind.OPT_IN, ConsentSource.INBOUND_KEYWORD),
    ]
    opt_in_event = ConsentEvent.objects.filter(kind=ConsentKind.OPT_IN).get()
    assert opt_in_event.contact == alice
    assert opt_in_event.message_sid == "SM" + "b" * 32
    current = state(personas)
    assert current.opted_out is False
    assert current.opted_out_at is None
    assert current.opt_out_source == ""
    assert current.locked is False
    assert not is_opted_out(personas.org, ALICE)
    assert list(alice.tags.values_list("name", flat=True)) == ["vip"]
    assert ConsentState.objects.filter(organization=personas.org).count() == 1


def test_it_records_who_opted_a_number_out(personas):
    create(personas)

    opt_out(personas, ConsentSource.USER, user=personas.marketer)
    opt_in(personas, ConsentSource.USER, user=personas.admin, actor="Ada at the desk")

    out_event, in_event = ConsentEvent.objects.order_by("pk")
    assert out_event.user == personas.marketer
    assert out_event.actor == personas.marketer.get_full_name()
    assert in_event.user == personas.admin
    assert in_event.actor == "Ada at the desk"


def test_it_writes_a_second_ledger_row_for_a_repeated_stop_but_changes_nothing(personas):
    alice = create(personas)
    opt_out(personas, ConsentSource.INBOUND_KEYWORD)
    first = state(personas)

    assert opt_out(personas, ConsentSource.INBOUND_KEYWORD, message_sid=SID) is False

    assert ledger(personas) == [
        (ConsentKind.OPT_OUT, ConsentSource.INBOUND_KEYWORD),
        (ConsentKind.OPT_OUT, ConsentSource.INBOUND_KEYWORD),
    ]
    again = state(personas)
    assert again.opted_out is True
    assert again.opted_out_at == first.opted_out_at
    assert again.opt_out_source == ConsentSource.INBOUND_KEYWORD
    assert alice.tags.filter(name=OPT_OUT_TAG).count() == 1


def test_it_writes_a_ledger_row_for_an_opt_in_that_changes_nothing(personas):
    create(personas)

    assert opt_in(personas, ConsentSource.INBOUND_KEYWORD) is False

    assert ledger(personas) == [(ConsentKind.OPT_IN, ConsentSource.INBOUND_KEYWORD)]
    assert not is_opted_out(personas.org, ALICE)


def test_it_writes_only_a_ledger_row_for_a_help_request(personas):
    alice = create(personas, tags=["vip"])

    consent_help(
        organization=personas.org,
        phone=ALICE,
        source=ConsentSource.INBOUND_KEYWORD,
        message_sid=SID,
    )

    event = ConsentEvent.objects.get()
    assert (event.kind, event.source, event.message_sid) == (
        ConsentKind.HELP,
        ConsentSource.INBOUND_KEYWORD,
        SID,
    )
    assert event.contact == alice
    assert not ConsentState.objects.filter(organization=personas.org, phone=ALICE, opted_out=True)
    assert list(alice.tags.values_list("name", flat=True)) == ["vip"]


def test_it_keeps_each_organizations_consent_apart(personas):
    create(personas)
    contact_create(organization=personas.other_org, source="ui", phone=ALICE)

    opt_out(personas, ConsentSource.INBOUND_KEYWORD)

    assert is_opted_out(personas.org, ALICE)
    assert not is_opted_out(personas.other_org, ALICE)
    assert not ConsentEvent.objects.filter(organization=personas.other_org).exists()
    theirs = Contact.objects.get(organization=personas.other_org)
    assert not has_opt_out_tag(theirs)


def test_it_writes_nothing_when_an_opt_out_fails_midway(personas, monkeypatch):
    alice = create(personas)

    def broken(organization):
        raise RuntimeError("tag table unavailable")

    monkeypatch.setattr("contacts.services.consent.reserved_tag", broken)
    with pytest.raises(RuntimeError):
        opt_out(personas, ConsentSource.INBOUND_KEYWORD)

    assert ledger(personas) == []
    assert not is_opted_out(personas.org, ALICE)
    assert not has_opt_out_tag(alice)


def test_it_writes_nothing_when_an_opt_in_fails_midway(personas, monkeypatch):
    alice = create(personas)
    opt_out(personas, ConsentSource.INBOUND_KEYWORD)

    def broken(organization):
        raise RuntimeError("tag table unavailable")

    monkeypatch.setattr("contacts.services.consent.reserved_tag", broken)
    with pytest.raises(RuntimeError):
        opt_in(personas, ConsentSource.INBOUND_KEYWORD)

    assert ledger(personas) == [(ConsentKind.OPT_OUT, ConsentSource.INBOUND_KEYWORD)]
    assert is_opted_out(personas.org, ALICE)
    assert has_opt_out_tag(alice)


# --- Numbers without a contact, deleted and re-created contacts ---------------------------


def test_it_opts_out_a_number_with_no_contact_and_a_later_contact_comes_back_opted_out(personas):
    assert opt_out(personas, ConsentSource.INBOUND_KEYWORD) is True

    event = ConsentEvent.objects.get()
    assert event.contact is None
    assert event.phone == ALICE
    assert state(personas).opted_out is True

    alice = create(personas, phone="(415) 555-0123", tags=["vip"])

    assert has_opt_out_tag(alice)
    assert sorted(alice.tags.values_list("name", flat=True)) == sorted(["vip", OPT_OUT_TAG])


def test_it_keeps_the_opt_out_when_a_contact_is_deleted_and_created_again(personas):
    alice = create(personas)
    opt_out(personas, ConsentSource.INBOUND_KEYWORD)

    contact_delete(contact=alice, source="ui")

    assert state(personas).opted_out is True
    event = ConsentEvent.objects.get()
    assert event.contact is None  # the ledger row stays, without the contact
    assert event.kind == ConsentKind.OPT_OUT

    again = create(personas, phone="415-555-0123")

    assert has_opt_out_tag(again)
    assert state(personas).opted_out is True
    assert state(personas).opt_out_source == ConsentSource.INBOUND_KEYWORD
    assert len(consent_history(personas.org, ALICE)) == 1
    # Still the person's STOP: a user cannot undo it for the new contact either.
    with pytest.raises(ConflictError):
        opt_in(personas, ConsentSource.USER, user=personas.admin)


def test_it_moves_the_opt_out_tag_with_a_change_of_number(personas):
    create(personas, phone=BOB)
    opt_out(personas, ConsentSource.INBOUND_KEYWORD, phone=BOB)
    bob = Contact.objects.get(phone=BOB)
    contact_delete(contact=bob, source="ui")
    alice = create(personas, phone=ALICE)
    assert not has_opt_out_tag(alice)

    contact_update(contact=alice, source="ui", phone=BOB)
    assert has_opt_out_tag(alice)

    contact_update(contact=alice, source="ui", phone=ALICE)
    assert not has_opt_out_tag(alice)


# --- Who may undo an opt-out ------------------------------------------------------------


@pytest.mark.parametrize("stop_source", PERSON_STOPS)
@pytest.mark.parametrize("undo_source", [ConsentSource.USER, ConsentSource.IMPORT])
def test_it_refuses_to_let_a_user_or_an_import_undo_the_persons_stop(
    personas, stop_source, undo_source
):
    alice = create(personas)
    opt_out(personas, stop_source)
    before = state(personas)

    with pytest.raises(ConflictError) as caught:
        opt_in(personas, undo_source, user=personas.owner)

    error = caught.value
    assert error.status == 409
    assert error.code == "consent_locked"
    assert error.message == LOCKED_MESSAGE
    assert ledger(personas) == [(ConsentKind.OPT_OUT, stop_source)]
    after = state(personas)
    assert (after.opted_out, after.opted_out_at, after.opt_out_source) == (
        True,
        before.opted_out_at,
        stop_source,
    )
    assert has_opt_out_tag(alice)


@pytest.mark.parametrize("out_source", [ConsentSource.USER, ConsentSource.IMPORT])
@pytest.mark.parametrize("undo_source", [ConsentSource.USER, ConsentSource.IMPORT])
def test_it_lets_a_user_or_an_import_undo_an_opt_out_a_user_or_an_import_made(
    personas, out_source, undo_source
):
    alice = create(personas)
    assert opt_out(personas, out_source, user=personas.marketer) is True
    assert state(personas).locked is False

    assert opt_in(personas, undo_source, user=personas.admin) is True

    assert ledger(personas) == [
        (ConsentKind.OPT_OUT, out_source),
        (ConsentKind.OPT_IN, undo_source),
    ]
    assert state(personas).opted_out is False
    assert not has_opt_out_tag(alice)


@pytest.mark.parametrize("stop_source", PERSON_STOPS)
@pytest.mark.parametrize("start_source", PERSON_STARTS)
def test_it_lets_the_persons_start_undo_their_stop(personas, stop_source, start_source):
    alice = create(personas)
    opt_out(personas, stop_source)

    assert opt_in(personas, start_source, message_sid=SID) is True

    assert ledger(personas) == [
        (ConsentKind.OPT_OUT, stop_source),
        (ConsentKind.OPT_IN, start_source),
    ]
    assert state(personas).opted_out is False
    assert not has_opt_out_tag(alice)


def test_it_lets_the_persons_start_undo_a_user_opt_out(personas):
    alice = create(personas)
    opt_out(personas, ConsentSource.USER, user=personas.admin)

    assert opt_in(personas, ConsentSource.INBOUND_KEYWORD) is True

    assert state(personas).opted_out is False
    assert not has_opt_out_tag(alice)


@pytest.mark.parametrize("stop_source", PERSON_STOPS)
def test_it_locks_a_user_opt_out_once_the_person_replies_stop(personas, stop_source):
    alice = create(personas)
    opt_out(personas, ConsentSource.USER, user=personas.admin)
    first = state(personas)

    assert opt_out(personas, stop_source) is False

    locked = state(personas)
    assert locked.opted_out is True
    assert locked.opt_out_source == stop_source
    assert locked.opted_out_at == first.opted_out_at
    assert locked.locked is True
    with pytest.raises(ConflictError) as caught:
        opt_in(personas, ConsentSource.USER, user=personas.admin)
    assert caught.value.code == "consent_locked"
    assert ledger(personas) == [
        (ConsentKind.OPT_OUT, ConsentSource.USER),
        (ConsentKind.OPT_OUT, stop_source),
    ]
    assert has_opt_out_tag(alice)


def test_it_keeps_the_persons_stop_locked_when_a_user_opts_out_again(personas):
    create(personas)
    opt_out(personas, ConsentSource.INBOUND_KEYWORD)

    assert opt_out(personas, ConsentSource.USER, user=personas.admin) is False

    assert state(personas).opt_out_source == ConsentSource.INBOUND_KEYWORD
    with pytest.raises(ConflictError):
        opt_in(personas, ConsentSource.USER, user=personas.admin)
