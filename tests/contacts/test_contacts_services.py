"""Creating, changing, finding and deleting contacts."""

from __future__ import annotations

import datetime

import pytest

from contacts.models import OPT_OUT_TAG, ConsentSource, ConsentState, Contact
from contacts.selectors import ContactFilter, contacts_search
from contacts.services.consent import consent_opt_out
from contacts.services.contacts import (
    contact_create,
    contact_delete,
    contact_update,
    contact_upsert,
)
from tenants.errors import ApplicationError, ConflictError

pytestmark = pytest.mark.django_db

ALICE = "+14155550123"
BOB = "+14155550177"


def create(personas, phone=ALICE, **data):
    return contact_create(organization=personas.org, source="ui", phone=phone, **data)


def tag_names(contact: Contact) -> list[str]:
    return sorted(contact.tags.values_list("name", flat=True))


def found(organization, **filters) -> list[str]:
    return [c.phone for c in contacts_search(organization, ContactFilter(**filters))]


# --- Phone uniqueness ------------------------------------------------------------------


def test_it_stores_a_new_contacts_fields_cleaned(personas):
    contact = create(
        personas,
        phone="(415) 555-0123",
        first_name="  Alice   Mae ",
        last_name="Liddell",
        email=" Alice@Example.COM ",
    )

    stored = Contact.objects.get(pk=contact.pk)
    assert stored.organization == personas.org
    assert stored.phone == ALICE
    assert stored.first_name == "Alice Mae"
    assert stored.last_name == "Liddell"
    assert stored.email == "alice@example.com"
    assert stored.custom_fields == {}


def test_it_refuses_a_second_contact_with_the_same_number_written_differently(personas):
    create(personas, phone="(415) 555-0123")

    with pytest.raises(ConflictError) as caught:
        create(personas, phone="+1 415-555-0123")

    error = caught.value
    assert error.status == 409
    assert error.code == "duplicate_phone"
    assert ALICE in error.fields["phone"][0]
    assert Contact.objects.filter(organization=personas.org).count() == 1


def test_it_allows_the_same_number_in_another_organization(personas):
    create(personas)

    other = contact_create(organization=personas.other_org, source="ui", phone=ALICE)

    assert other.organization == personas.other_org
    assert Contact.objects.filter(phone=ALICE).count() == 2


def test_it_refuses_to_give_a_contact_another_contacts_number(personas):
    create(personas, phone=ALICE)
    bob = create(personas, phone=BOB)

    with pytest.raises(ConflictError) as caught:
        contact_update(contact=bob, source="ui", phone="(415) 555-0123")

    assert caught.value.status == 409
    assert caught.value.code == "duplicate_phone"
    bob.refresh_from_db()
    assert bob.phone == BOB


def test_it_lets_a_contact_keep_its_own_number_written_differently(personas):
    alice = create(personas, first_name="Alice")

    contact_update(contact=alice, source="ui", phone="(415) 555-0123", first_name="Alicia")

    alice.refresh_from_db()
    assert alice.phone == ALICE
    assert alice.first_name == "Alicia"


def test_it_refuses_a_contact_without_a_number(personas):
    with pytest.raises(ApplicationError) as caught:
        contact_create(organization=personas.org, source="ui", phone=" ", first_name="Nobody")

    assert "phone" in caught.value.fields
    assert not Contact.objects.exists()


def test_it_refuses_an_invalid_number_on_update(personas):
    alice = create(personas)

    with pytest.raises(ApplicationError) as caught:
        contact_update(contact=alice, source="ui", phone="12")

    assert "too short" in caught.value.fields["phone"][0]
    assert Contact.objects.get(pk=alice.pk).phone == ALICE


# --- Custom fields and email ------------------------------------------------------------


@pytest.mark.parametrize("key", ["Plan", "1x", "a-b", "", "with space", "é"])
def test_it_refuses_custom_field_names_that_are_not_lower_case_letters_digits_and_underscores(
    personas, key
):
    with pytest.raises(ApplicationError) as caught:
        create(personas, custom_fields={key: "gold"})

    assert caught.value.code == "validation_error"
    assert "lower-case letters, digits and _" in caught.value.fields["custom_fields"][0]
    assert not Contact.objects.exists()


@pytest.mark.parametrize("value", [5, 2.5, True, None, ["gold"], {"level": "gold"}])
def test_it_refuses_custom_field_values_that_are_not_text(personas, value):
    with pytest.raises(ApplicationError) as caught:
        create(personas, custom_fields={"plan": value})

    assert "values are text" in caught.value.fields["custom_fields"][0]
    assert not Contact.objects.exists()


def test_it_stores_custom_fields_with_dates_as_iso_text(personas):
    contact = create(
        personas,
        custom_fields={
            "plan": "gold",
            "renewal_date": datetime.date(2025, 3, 7),
            "signed_up": datetime.datetime(2024, 12, 31, 23, 30, tzinfo=datetime.UTC),
            "tier_2": "2025-01-02",
        },
    )

    assert Contact.objects.get(pk=contact.pk).custom_fields == {
        "plan": "gold",
        "renewal_date": "2025-03-07",
        "signed_up": "2024-12-31",
        "tier_2": "2025-01-02",
    }


def test_it_refuses_bad_custom_fields_on_update_and_keeps_the_old_ones(personas):
    contact = create(personas, custom_fields={"plan": "gold"})

    with pytest.raises(ApplicationError) as caught:
        contact_update(contact=contact, source="api", custom_fields={"Plan": "silver"})

    assert "custom_fields" in caught.value.fields
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"plan": "gold"}


@pytest.mark.parametrize("email", ["not-an-email", "alice@", "@example.com", "a b@example.com"])
def test_it_refuses_an_email_that_is_not_an_address(personas, email):
    with pytest.raises(ApplicationError) as caught:
        create(personas, email=email)

    assert list(caught.value.fields) == ["email"]
    assert "is not an email address" in caught.value.fields["email"][0]
    assert not Contact.objects.exists()


def test_it_reports_every_invalid_field_at_once(personas):
    with pytest.raises(ApplicationError) as caught:
        create(personas, phone="12", email="nope", custom_fields={"Bad": "x"})

    assert set(caught.value.fields) == {"phone", "email", "custom_fields"}


# --- Upsert and tags --------------------------------------------------------------------


def test_it_upserts_by_number_creating_then_updating_and_adding_tags(personas):
    contact, created = contact_upsert(
        organization=personas.org,
        phone="(415) 555-0123",
        source="import",
        first_name="Alice",
        tags=["vip", "newsletter"],
    )
    assert created is True
    assert tag_names(contact) == ["newsletter", "vip"]

    again, created_again = contact_upsert(
        organization=personas.org,
        phone="+1 415.555.0123",
        source="import",
        last_name="Liddell",
        tags=["customer"],
    )

    assert created_again is False
    assert again.pk == contact.pk
    assert Contact.objects.filter(organization=personas.org).count() == 1
    stored = Contact.objects.get(pk=contact.pk)
    assert stored.first_name == "Alice"
    assert stored.last_name == "Liddell"
    assert tag_names(stored) == ["customer", "newsletter", "vip"]


def test_it_refuses_to_upsert_an_invalid_number(personas):
    with pytest.raises(ApplicationError) as caught:
        contact_upsert(organization=personas.org, phone="415-555-CALL", source="import")

    assert "phone" in caught.value.fields
    assert not Contact.objects.exists()


def test_it_replaces_the_tags_on_update_but_keeps_the_opt_out_tag(personas):
    contact = create(personas, tags=["vip", "newsletter"])
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD)
    assert tag_names(contact) == sorted(["newsletter", "vip", OPT_OUT_TAG])

    contact_update(contact=contact, source="ui", tags=["customer", "VIP"])

    assert tag_names(contact) == sorted(["customer", "vip", OPT_OUT_TAG])


def test_it_removes_every_tag_but_the_opt_out_tag_when_given_none(personas):
    contact = create(personas, tags=["vip"])
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)

    contact_update(contact=contact, source="ui", tags=[])

    assert tag_names(contact) == [OPT_OUT_TAG]


def test_it_leaves_the_tags_alone_when_an_update_does_not_mention_them(personas):
    contact = create(personas, tags=["vip"])

    contact_update(contact=contact, source="ui", first_name="Alice")

    assert tag_names(contact) == ["vip"]


# --- Delete -----------------------------------------------------------------------------


def test_it_deletes_a_contact_but_keeps_the_numbers_opt_out(personas):
    contact = create(personas)
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD)

    contact_delete(contact=contact, source="ui")

    assert not Contact.objects.filter(phone=ALICE).exists()
    state = ConsentState.objects.get(organization=personas.org, phone=ALICE)
    assert state.opted_out is True
    assert state.opt_out_source == ConsentSource.INBOUND_KEYWORD


# --- Search -----------------------------------------------------------------------------


@pytest.fixture
def people(personas):
    alice = create(
        personas, phone=ALICE, first_name="Alice", last_name="Liddell", email="alice@wonder.example"
    )
    bob = create(
        personas, phone=BOB, first_name="Bob", last_name="Builder", email="bob@site.example"
    )
    return alice, bob


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("lid", [ALICE]),
        ("ALICE", [ALICE]),
        ("bob@site.example", [BOB]),
        ("Wonder.Example", [ALICE]),
        ("5550177", [BOB]),
        ("555-0177", [BOB]),
        ("(415) 555-0123", [ALICE]),
        ("+1 415.555.0177", [BOB]),
        ("4155550123", [ALICE]),
        ("555", [BOB, ALICE]),
        ("nobody", []),
    ],
)
def test_it_finds_contacts_by_name_email_or_number(personas, people, q, expected):
    assert found(personas.org, q=q) == expected


def test_it_keeps_the_search_text_in_step_with_changes(personas, people):
    alice, _bob = people

    contact_update(
        contact=alice, source="ui", first_name="Alicia", email="al@new.example", phone="4155550188"
    )

    assert found(personas.org, q="alicia") == ["+14155550188"]
    assert found(personas.org, q="al@new") == ["+14155550188"]
    assert found(personas.org, q="5550188") == ["+14155550188"]
    assert found(personas.org, q="alice") == []
    assert found(personas.org, q="wonder") == []
    assert found(personas.org, q="5550123") == []
    assert Contact.objects.get(pk=alice.pk).search == Contact.objects.get(pk=alice.pk).search_text()


def test_it_filters_contacts_by_tag_in_any_case(personas, people):
    alice, _bob = people
    contact_update(contact=alice, source="ui", tags=["vip"])

    assert found(personas.org, tag="VIP") == [ALICE]
    assert found(personas.org, tag="other") == []


def test_it_filters_contacts_by_the_opt_out_tag_and_by_consent(personas, people):
    consent_opt_out(organization=personas.org, phone=BOB, source=ConsentSource.INBOUND_KEYWORD)

    assert found(personas.org, tag=OPT_OUT_TAG) == [BOB]
    assert found(personas.org, tag=OPT_OUT_TAG.upper()) == [BOB]
    assert found(personas.org, opted_out=True) == [BOB]
    assert found(personas.org, opted_out=False) == [ALICE]
    assert found(personas.org, opted_out=None) == [BOB, ALICE]
    listed = contacts_search(personas.org, ContactFilter())
    flags = {c.phone: c.opted_out for c in listed}  # type: ignore[attr-defined]
    assert flags == {ALICE: False, BOB: True}


def test_it_never_finds_another_organizations_contacts(personas, people):
    assert found(personas.other_org) == []
    assert found(personas.other_org, q="alice") == []
    assert found(personas.other_org, q="(415) 555-0123") == []
    assert found(personas.other_org, q="5550123") == []
    assert found(personas.org) == [BOB, ALICE]


def test_it_does_not_count_another_organizations_opt_out(personas, people):
    consent_opt_out(
        organization=personas.other_org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD
    )

    assert found(personas.org, opted_out=True) == []
    assert found(personas.org, tag=OPT_OUT_TAG) == []


def test_it_finds_a_contact_by_its_full_national_number(personas):
    # Written nationally, a London number's digits ("020…") are not part of its E.164 digits.
    personas.org.default_country = "GB"
    personas.org.save()
    london = contact_create(organization=personas.org, source="ui", phone="+44 20 7946 0958")

    assert found(personas.org, q="020 7946 0958") == [london.phone]
    assert found(personas.org, q="(020) 7946-0958") == ["+442079460958"]
