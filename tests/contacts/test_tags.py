"""Tags: one per name (in any case) per organization; the opt-out tag belongs to consent."""

from __future__ import annotations

import pytest

from contacts.models import OPT_OUT_TAG, ConsentSource, Contact, ContactTag, Tag
from contacts.services.consent import consent_opt_out
from contacts.services.contacts import contact_create, contact_update, contact_upsert
from contacts.services.tags import (
    contact_tags_add,
    contact_tags_remove,
    contact_tags_set,
    contacts_tag_bulk_add,
)
from tenants.errors import ApplicationError

pytestmark = pytest.mark.django_db

ALICE = "+14155550123"
BOB = "+14155550177"
CAROL = "+14155550199"

RESERVED_SPELLINGS = [
    OPT_OUT_TAG,
    "twilio-message-STOP",
    " Twilio-Message-stop ",
    "TWILIO-MESSAGE-STOP",
    "twilio-message-stop",
]


def create(organization, phone=ALICE, **data):
    return contact_create(organization=organization, source="ui", phone=phone, **data)


def tag_names(contact: Contact) -> list[str]:
    return sorted(contact.tags.values_list("name", flat=True))


def snapshot():
    """Everything a tag change could touch."""
    return (
        sorted(Tag.objects.values_list("organization_id", "name")),
        sorted(ContactTag.objects.values_list("contact_id", "tag__name")),
        sorted(Contact.objects.values_list("organization_id", "phone", "first_name")),
    )


def assert_reserved_refusal(error: ApplicationError) -> None:
    assert error.status == 400
    assert error.code == "reserved_tag"
    assert error.message == "Tags cannot include the opt-out tag."
    assert OPT_OUT_TAG in error.fields["tags"][0]
    assert "Opt out / Opt in" in error.fields["tags"][0]


# --- Names ------------------------------------------------------------------------------


def test_it_reuses_a_tag_whatever_the_case(personas):
    alice = create(personas.org, ALICE)
    bob = create(personas.org, BOB)
    contact_tags_add(contact=alice, names=["vip"], source="ui")

    added = contact_tags_add(contact=bob, names=["VIP"], source="ui")

    assert added == ["vip"]
    assert Tag.objects.filter(organization=personas.org, name__iexact="vip").count() == 1
    assert tag_names(bob) == ["vip"]
    assert Tag.objects.get(organization=personas.org, name__iexact="vip").contacts.count() == 2


def test_it_adds_a_name_given_twice_in_different_cases_once(personas):
    alice = create(personas.org)

    added = contact_tags_add(contact=alice, names=["Gold", "GOLD", "gold "], source="ui")

    assert added == ["Gold"]
    assert list(Tag.objects.filter(name__iexact="gold").values_list("name", flat=True)) == ["Gold"]
    assert tag_names(alice) == ["Gold"]


def test_it_keeps_tags_of_the_same_name_apart_between_organizations(personas):
    alice = create(personas.org)
    stranger = create(personas.other_org)
    contact_tags_add(contact=alice, names=["vip"], source="ui")

    contact_tags_add(contact=stranger, names=["VIP"], source="ui")

    assert sorted(
        Tag.objects.filter(name__iexact="vip").values_list("organization_id", "name")
    ) == [
        (personas.org.pk, "vip"),
        (personas.other_org.pk, "VIP"),
    ]


def test_it_accepts_letters_digits_spaces_dashes_underscores_and_dots(personas):
    alice = create(personas.org)

    added = contact_tags_add(
        contact=alice, names=["Big   spender ", "v1.2_beta-test", "x" * 64], source="ui"
    )

    assert added == ["Big spender", "v1.2_beta-test", "x" * 64]
    assert tag_names(alice) == sorted(["Big spender", "v1.2_beta-test", "x" * 64])


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("vip!", "tag names have letters, digits, spaces, -, _ and . only"),
        ("a/b", "tag names have letters, digits, spaces, -, _ and . only"),
        ("#promo", "tag names have letters, digits, spaces, -, _ and . only"),
        ("x" * 65, "64 at most"),
        ("", "A tag needs a name."),
        ("   ", "A tag needs a name."),
    ],
)
def test_it_refuses_invalid_tag_names_and_changes_nothing(personas, name, words):
    alice = create(personas.org, tags=["vip"])
    before = snapshot()

    with pytest.raises(ApplicationError) as caught:
        contact_tags_add(contact=alice, names=["fine", name], source="ui")

    assert caught.value.code == "validation_error"
    assert words in caught.value.fields["tags"][0]
    assert snapshot() == before


def test_it_refuses_an_invalid_tag_name_on_create_and_creates_no_contact(personas):
    with pytest.raises(ApplicationError) as caught:
        create(personas.org, tags=["ok", "bad/name"])

    assert "tags" in caught.value.fields
    assert not Contact.objects.exists()
    assert not Tag.objects.filter(name="ok").exists()


# --- The reserved opt-out tag -----------------------------------------------------------


@pytest.mark.parametrize("name", RESERVED_SPELLINGS)
def test_it_refuses_to_add_the_opt_out_tag_to_a_contact(personas, name):
    alice = create(personas.org, tags=["vip"])
    before = snapshot()

    with pytest.raises(ApplicationError) as caught:
        contact_tags_add(contact=alice, names=["newsletter", name], source="ui")

    assert_reserved_refusal(caught.value)
    assert snapshot() == before
    assert tag_names(alice) == ["vip"]


@pytest.mark.parametrize("name", RESERVED_SPELLINGS)
def test_it_refuses_to_create_a_contact_with_the_opt_out_tag(personas, name):
    before = snapshot()

    with pytest.raises(ApplicationError) as caught:
        create(personas.org, tags=["vip", name])

    assert_reserved_refusal(caught.value)
    assert snapshot() == before
    assert not Contact.objects.exists()


@pytest.mark.parametrize("name", RESERVED_SPELLINGS)
def test_it_refuses_to_set_the_opt_out_tag_on_update_and_changes_nothing(personas, name):
    alice = create(personas.org, first_name="Alice", tags=["vip"])
    before = snapshot()

    with pytest.raises(ApplicationError) as caught:
        contact_update(contact=alice, source="api", first_name="Changed", tags=["new", name])

    assert_reserved_refusal(caught.value)
    assert snapshot() == before
    assert Contact.objects.get(pk=alice.pk).first_name == "Alice"


@pytest.mark.parametrize("name", RESERVED_SPELLINGS)
def test_it_refuses_to_import_the_opt_out_tag(personas, name):
    alice = create(personas.org, first_name="Alice")
    before = snapshot()

    with pytest.raises(ApplicationError) as caught:
        contact_upsert(
            organization=personas.org,
            phone="(415) 555-0123",
            source="import",
            first_name="Changed",
            tags=[name],
        )
    assert_reserved_refusal(caught.value)

    with pytest.raises(ApplicationError) as caught_new:
        contact_upsert(organization=personas.org, phone=BOB, source="import", tags=[name])
    assert_reserved_refusal(caught_new.value)

    assert snapshot() == before
    assert Contact.objects.get(pk=alice.pk).first_name == "Alice"


@pytest.mark.parametrize("name", RESERVED_SPELLINGS)
def test_it_refuses_to_bulk_add_the_opt_out_tag(personas, name):
    create(personas.org, ALICE)
    create(personas.org, BOB)
    before = snapshot()

    with pytest.raises(ApplicationError) as caught:
        contacts_tag_bulk_add(
            organization=personas.org,
            contacts=Contact.objects.filter(organization=personas.org),
            name=name,
            source="ui",
        )

    assert_reserved_refusal(caught.value)
    assert snapshot() == before


@pytest.mark.parametrize("name", RESERVED_SPELLINGS)
def test_it_refuses_to_remove_the_opt_out_tag(personas, name):
    alice = create(personas.org, tags=["vip"])
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
    before = snapshot()

    with pytest.raises(ApplicationError) as caught:
        contact_tags_remove(contact=alice, names=["vip", name], source="ui")

    assert_reserved_refusal(caught.value)
    assert snapshot() == before
    assert tag_names(alice) == sorted(["vip", OPT_OUT_TAG])


def test_it_refuses_to_replace_tags_with_a_list_holding_the_opt_out_tag(personas):
    alice = create(personas.org, tags=["vip"])
    before = snapshot()

    with pytest.raises(ApplicationError) as caught:
        contact_tags_set(contact=alice, names=["other", "twilio-message-STOP"], source="ui")

    assert_reserved_refusal(caught.value)
    assert snapshot() == before


# --- Remove -----------------------------------------------------------------------------


def test_it_removes_tags_by_name_in_any_case_and_only_those_present(personas):
    alice = create(personas.org, tags=["vip", "newsletter"])
    create(personas.org, BOB, tags=["unrelated"])

    removed = contact_tags_remove(contact=alice, names=["VIP", "unrelated", "ghost"], source="ui")

    assert removed == ["vip"]
    assert tag_names(alice) == ["newsletter"]
    # The tag itself stays for the others.
    assert Tag.objects.filter(organization=personas.org, name="vip").exists()


# --- Bulk -------------------------------------------------------------------------------


def test_it_bulk_adds_a_tag_counting_only_contacts_that_gained_it(personas):
    alice = create(personas.org, ALICE, tags=["VIP"])
    bob = create(personas.org, BOB)
    carol = create(personas.org, CAROL)

    gained = contacts_tag_bulk_add(
        organization=personas.org,
        contacts=Contact.objects.filter(organization=personas.org),
        name="vip",
        source="ui",
    )

    assert gained == 2
    assert Tag.objects.filter(organization=personas.org, name__iexact="vip").count() == 1
    for contact in (alice, bob, carol):
        assert tag_names(contact) == ["VIP"]

    assert (
        contacts_tag_bulk_add(
            organization=personas.org,
            contacts=Contact.objects.filter(organization=personas.org),
            name="VIP",
            source="ui",
        )
        == 0
    )
    assert ContactTag.objects.filter(tag__name="VIP").count() == 3


def test_it_bulk_tags_only_the_selection_given(personas):
    alice = create(personas.org, ALICE, first_name="Alice")
    bob = create(personas.org, BOB, first_name="Bob")

    gained = contacts_tag_bulk_add(
        organization=personas.org,
        contacts=Contact.objects.filter(first_name="Alice"),
        name="chosen",
        source="ui",
    )

    assert gained == 1
    assert tag_names(alice) == ["chosen"]
    assert tag_names(bob) == []


def test_it_bulk_tags_only_contacts_of_its_organization(personas):
    ours = create(personas.org, ALICE)
    theirs = create(personas.other_org, BOB)

    gained = contacts_tag_bulk_add(
        organization=personas.org,
        contacts=Contact.objects.filter(organization=personas.other_org),
        name="stolen",
        source="ui",
    )
    gained_all = contacts_tag_bulk_add(
        organization=personas.org, contacts=Contact.objects.all(), name="mine", source="ui"
    )

    assert gained == 0
    assert gained_all == 1
    assert tag_names(theirs) == []
    assert tag_names(ours) == ["mine"]
    assert not Tag.objects.filter(organization=personas.other_org, name__in=["stolen", "mine"])
