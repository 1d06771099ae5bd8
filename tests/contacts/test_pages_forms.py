"""Creating, reading, editing and deleting a contact in the browser."""

from __future__ import annotations

import pytest

from contacts.models import (
    OPT_OUT_TAG,
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactTag,
    Tag,
)
from contacts.services.consent import consent_opt_out
from tests.contacts.helpers import (
    OTHER_PHONE,
    PHONE,
    RESERVED_WORDS,
    WRITERS,
    detail_path,
    follow,
    state_of,
    stop_by_keyword,
    tag_names,
    visible,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

LIST = "/contacts/"
NEW = "/contacts/new/"
BULK = "/contacts/bulk-tag/"


# --- Creating -------------------------------------------------------------------------------


FORM = {
    "phone": "(415) 555-0123",
    "first_name": "  Alice ",
    "last_name": "Smith",
    "email": "Alice@Example.com",
    "time_zone": "",
    "tags": "vip, newsletter, vip",
    "custom_fields": "plan: gold\nrenewal_date: 2027-01-31\n",
}


def test_it_shows_the_create_form(personas):
    response = personas.client("marketer").get(NEW)

    assert response.status_code == 200
    text = page_text(response)
    assert "Add contact" in text
    for name in ("phone", "first_name", "last_name", "email", "time_zone", "tags"):
        assert f'name="{name}"' in text
    assert 'name="custom_fields"' in text


@pytest.mark.parametrize("persona", WRITERS)
def test_it_creates_a_contact_in_e164_with_tags_and_custom_fields(personas, persona):
    client = personas.client(persona)

    response = client.post(NEW, FORM)

    contact = Contact.objects.get(organization=personas.org)
    assert response.status_code == 302
    assert response["Location"] == detail_path(contact)
    assert contact.phone == PHONE
    assert contact.first_name == "Alice"
    assert contact.last_name == "Smith"
    assert contact.email == "alice@example.com"
    assert contact.time_zone == "America/Los_Angeles"
    assert contact.custom_fields == {"plan": "gold", "renewal_date": "2027-01-31"}
    assert tag_names(contact) == {"vip", "newsletter"}
    assert "Alice Smith was added." in follow(client, response)


def test_it_keeps_a_chosen_time_zone(personas):
    personas.client("marketer").post(NEW, {**FORM, "time_zone": "Europe/Paris"})

    assert Contact.objects.get(organization=personas.org).time_zone == "Europe/Paris"


def test_it_refuses_a_duplicate_phone_written_another_way(personas, alice):
    response = personas.client("marketer").post(
        NEW, {**FORM, "phone": "415.555.0123", "first_name": "Twin"}
    )

    assert response.status_code == 400
    assert f"A contact with the number {PHONE} already exists." in page_text(response)
    assert Contact.objects.filter(organization=personas.org).count() == 1
    assert not Contact.objects.filter(first_name="Twin").exists()


def test_it_allows_the_same_phone_in_another_organization(personas, alice):
    response = personas.client("outsider").post(NEW, FORM)

    assert response.status_code == 302
    assert Contact.objects.filter(organization=personas.other_org, phone=PHONE).exists()
    assert Contact.objects.filter(organization=personas.org, phone=PHONE).count() == 1


@pytest.mark.parametrize(
    ("phone", "error"),
    [
        ("415-CALL-NOW", "A phone number has only digits, spaces, +, -, . and parentheses."),
        ("12", "too short"),
        ("", "This field is required."),
    ],
)
def test_it_refuses_a_phone_that_is_not_a_number(personas, phone, error):
    response = personas.client("marketer").post(NEW, {**FORM, "phone": phone})

    assert response.status_code == 400
    assert error in page_text(response)
    assert not Contact.objects.exists()


def test_it_refuses_the_reserved_tag_in_the_tags_field(personas):
    response = personas.client("marketer").post(NEW, {**FORM, "tags": "vip, twilio-message-stop"})

    assert response.status_code == 400
    assert RESERVED_WORDS in page_text(response)
    assert not Contact.objects.exists()
    assert not Tag.objects.filter(name="vip").exists()


def test_it_refuses_a_custom_field_line_without_a_colon(personas):
    response = personas.client("marketer").post(NEW, {**FORM, "custom_fields": "plan gold"})

    assert response.status_code == 400
    assert "Line 1: write each field as name: value." in page_text(response)
    assert not Contact.objects.exists()


def test_it_refuses_an_invalid_email(personas):
    response = personas.client("marketer").post(NEW, {**FORM, "email": "not-an-email"})

    assert response.status_code == 400
    assert "“not-an-email” is not an email address." in page_text(response)
    assert not Contact.objects.exists()


# --- The detail page ------------------------------------------------------------------------


def test_it_shows_the_contacts_fields_tags_and_consent(personas, alice):
    response = personas.client("viewer").get(detail_path(alice))

    assert response.status_code == 200
    text = visible(response)
    assert "Alice Smith" in text
    assert "+1 415-555-0123" in text
    assert PHONE in text
    assert "alice@example.com" in text
    assert "Europe/Paris" in text
    assert "custom.plan" in text
    assert "gold" in text
    assert "vip" in text
    assert "May be texted" in text
    assert "No opt-outs, opt-ins or help requests for this number." in text


def test_it_shows_the_opt_out_state_and_its_history(personas, alice):
    consent_opt_out(
        organization=personas.org, phone=PHONE, source=ConsentSource.USER, user=personas.owner
    )

    response = personas.client("marketer").get(detail_path(alice))

    text = visible(response)
    assert "Opted out" in text
    assert "changed by a user" in text
    assert "May be texted" not in text
    assert "Opted out · Changed by a user · Olivia Owner" in text
    assert OPT_OUT_TAG in text
    assert "No opt-outs, opt-ins or help requests" not in text
    assert "Opt back in" in text


def test_it_shows_the_history_of_a_keyword_stop(personas, alice):
    stop_by_keyword(personas.org)

    text = visible(personas.client("viewer").get(detail_path(alice)))

    assert "Opted out · Replied with a keyword" in text
    assert "replied with a keyword" in text


# --- Editing --------------------------------------------------------------------------------


def test_it_shows_the_edit_form_filled_in(personas, alice):
    response = personas.client("marketer").get(f"{detail_path(alice)}edit/")

    assert response.status_code == 200
    text = page_text(response)
    assert "Edit contact" in text
    assert f'value="{PHONE}"' in text
    assert 'value="Alice"' in text
    assert 'value="alice@example.com"' in text
    assert 'value="vip"' in text
    assert "plan: gold" in text


def test_it_leaves_the_reserved_tag_out_of_the_edit_form(personas, bob):
    text = page_text(personas.client("marketer").get(f"{detail_path(bob)}edit/"))

    assert 'value="vip"' in text
    assert OPT_OUT_TAG not in text


@pytest.mark.parametrize("persona", WRITERS)
def test_it_saves_an_edit(personas, alice, persona):
    client = personas.client(persona)

    response = client.post(
        f"{detail_path(alice)}edit/",
        {
            "phone": "+1 (415) 555 0199",
            "first_name": "Alicia",
            "last_name": "Smythe",
            "email": "alicia@example.com",
            "time_zone": "Europe/Paris",
            "tags": "newsletter",
            "custom_fields": "plan: silver",
        },
    )

    alice.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == detail_path(alice)
    assert alice.phone == "+14155550199"
    assert alice.name == "Alicia Smythe"
    assert alice.email == "alicia@example.com"
    assert alice.time_zone == "Europe/Paris"
    assert alice.custom_fields == {"plan": "silver"}
    assert tag_names(alice) == {"newsletter"}
    assert "Changes saved." in follow(client, response)


def test_it_finds_an_edited_contact_by_its_new_name(personas, alice):
    client = personas.client("marketer")
    client.post(f"{detail_path(alice)}edit/", {"phone": PHONE, "first_name": "Zelda"})

    response = client.get(LIST, {"q": "zelda"})

    assert detail_path(alice) in page_text(response)


def test_it_keeps_the_reserved_tag_when_an_opted_out_contact_is_edited(personas, bob):
    response = personas.client("marketer").post(
        f"{detail_path(bob)}edit/", {"phone": OTHER_PHONE, "first_name": "Bobby", "tags": "new"}
    )

    assert response.status_code == 302
    assert tag_names(bob) == {"new", OPT_OUT_TAG}
    assert state_of(personas.org, OTHER_PHONE).opted_out  # type: ignore[union-attr]


def test_it_refuses_to_edit_a_phone_into_another_contacts_number(personas, alice, bob):
    response = personas.client("marketer").post(
        f"{detail_path(alice)}edit/", {"phone": "(415) 555-0124", "first_name": "Alice"}
    )

    alice.refresh_from_db()
    assert response.status_code == 400
    assert f"A contact with the number {OTHER_PHONE} already exists." in page_text(response)
    assert alice.phone == PHONE


def test_it_refuses_an_edit_with_letters_in_the_phone(personas, alice):
    response = personas.client("marketer").post(
        f"{detail_path(alice)}edit/", {"phone": "call me", "first_name": "Changed"}
    )

    alice.refresh_from_db()
    assert response.status_code == 400
    assert "A phone number has only digits" in page_text(response)
    assert alice.first_name == "Alice"


# --- Deleting -------------------------------------------------------------------------------


def test_it_asks_before_deleting(personas, alice):
    response = personas.client("marketer").get(f"{detail_path(alice)}delete/")

    assert response.status_code == 200
    text = page_text(response)
    assert "Delete Alice Smith?" in text
    assert "Delete contact" in text
    assert f'href="{detail_path(alice)}"' in text
    assert Contact.objects.filter(pk=alice.pk).exists()


@pytest.mark.parametrize("persona", WRITERS)
def test_it_deletes_a_contact(personas, alice, persona):
    client = personas.client(persona)

    response = client.post(f"{detail_path(alice)}delete/")

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not Contact.objects.filter(pk=alice.pk).exists()
    assert not ContactTag.objects.filter(contact_id=alice.pk).exists()
    assert "Alice Smith was deleted." in follow(client, response)
    assert client.get(detail_path(alice)).status_code == 404


def test_it_keeps_a_deleted_numbers_opt_out(personas, bob):
    client = personas.client("marketer")

    response = client.post(f"{detail_path(bob)}delete/")

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=bob.pk).exists()
    state = state_of(personas.org, OTHER_PHONE)
    assert state is not None
    assert state.opted_out
    assert ConsentEvent.objects.filter(organization=personas.org, phone=OTHER_PHONE).exists()
    again = client.post(NEW, {"phone": "415 555 0124", "first_name": "Bob"})
    assert again.status_code == 302
    back = Contact.objects.get(organization=personas.org, phone=OTHER_PHONE)
    assert OPT_OUT_TAG in tag_names(back)
    assert "Opted out" in visible(client.get(detail_path(back)))
