"""Phone numbers: any usual way of writing one becomes E.164, or a clear refusal."""

from __future__ import annotations

import phonenumbers
import pytest

from contacts.models import Contact
from contacts.services.contacts import contact_create
from contacts.services.phones import phone_facts, phone_normalize, phone_time_zone
from tenants.errors import ApplicationError

SAN_FRANCISCO = "+14155550123"
# A toll-free number: phonenumbers lists every North American zone for it.
TOLL_FREE = "+18005550123"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("(415) 555-0123", "US", SAN_FRANCISCO),
        ("415.555.0123", "US", SAN_FRANCISCO),
        ("415-555-0123", "US", SAN_FRANCISCO),
        ("4155550123", "US", SAN_FRANCISCO),
        ("+1 415 555 0123", "US", SAN_FRANCISCO),
        ("  (415) 555-0123  ", "US", SAN_FRANCISCO),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("+1 415 555 0123", "GB", SAN_FRANCISCO),
    ],
)
def test_it_normalizes_usual_ways_of_writing_a_number_to_e164(raw, country, expected):
    assert phone_normalize(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country", "words"),
    [
        ("415-555-CALL", "US", "only digits"),
        ("12", "US", "too short"),
        ("+1 415 555 0123 4567 89", "US", "too long"),
        ("(123) 555-0123", "US", "not a valid number"),
        ("", "US", "Enter a phone number"),
        ("   ", "US", "Enter a phone number"),
    ],
)
def test_it_refuses_what_is_not_a_phone_number_and_says_why(raw, country, words):
    with pytest.raises(ApplicationError) as caught:
        phone_normalize(raw, country)
    error = caught.value
    assert error.status == 400
    assert list(error.fields) == ["phone"]
    assert words in error.fields["phone"][0]
    assert words in error.summary()


def test_it_names_the_field_it_was_given_in_its_errors():
    with pytest.raises(ApplicationError) as caught:
        phone_normalize("12", "US", field="to")
    assert list(caught.value.fields) == ["to"]
    assert "too short" in caught.value.fields["to"][0]


def test_it_refuses_a_national_number_of_another_country_without_its_country_code():
    # A London number written nationally is not a US number.
    with pytest.raises(ApplicationError):
        phone_normalize("020 7946 0958", "US")


def test_it_tells_the_time_zone_of_a_number_with_exactly_one():
    assert phone_time_zone(SAN_FRANCISCO) == "America/Los_Angeles"
    assert phone_time_zone("+442079460958") == "Europe/London"


def test_it_tells_no_time_zone_for_a_number_spanning_several():
    # The premise: phonenumbers does list several zones for these numbers.
    for number in (TOLL_FREE, "+79161234567"):
        zones = phonenumbers.timezone.time_zones_for_number(phonenumbers.parse(number))
        assert len(set(zones)) > 1
        assert phone_time_zone(number) is None


def test_it_guesses_a_new_contacts_time_zone_from_its_number(personas):
    personas.org.time_zone = "Europe/Paris"
    personas.org.save()

    contact = contact_create(organization=personas.org, source="ui", phone="(415) 555-0123")

    contact.refresh_from_db()
    assert contact.phone == SAN_FRANCISCO
    assert contact.time_zone == "America/Los_Angeles"


def test_it_gives_a_new_contact_the_organizations_time_zone_when_the_number_tells_several(
    personas,
):
    personas.org.time_zone = "Europe/Paris"
    personas.org.save()

    contact = contact_create(organization=personas.org, source="ui", phone="800-555-0123")

    assert Contact.objects.get(pk=contact.pk).time_zone == "Europe/Paris"


def test_it_keeps_the_time_zone_given_for_a_new_contact(personas):
    contact = contact_create(
        organization=personas.org, source="ui", phone=SAN_FRANCISCO, time_zone="Asia/Tokyo"
    )

    assert Contact.objects.get(pk=contact.pk).time_zone == "Asia/Tokyo"


def test_it_refuses_a_time_zone_that_does_not_exist(personas):
    with pytest.raises(ApplicationError) as caught:
        contact_create(
            organization=personas.org, source="ui", phone=SAN_FRANCISCO, time_zone="Mars/Olympus"
        )

    assert "time_zone" in caught.value.fields
    assert not Contact.objects.exists()


def test_it_reads_a_new_contacts_national_number_in_the_organizations_country(personas):
    personas.org.default_country = "GB"
    personas.org.save()

    contact = contact_create(organization=personas.org, source="ui", phone="020 7946 0958")

    assert Contact.objects.get(pk=contact.pk).phone == "+442079460958"
    assert contact.time_zone == "Europe/London"


@pytest.mark.parametrize(
    "raw",
    [
        "(415) 555-0100",
        "+44 7911 123456",
        "+44 20 7946 0958",
        "+33 6 12 34 56 78",
        "+1 800 555 0199",
    ],
)
def test_phone_facts_tell_what_the_three_lookups_tell(raw):
    facts = phone_facts(raw, "US")

    assert facts.e164 == phone_normalize(raw, "US")
    assert facts.time_zone == phone_time_zone(facts.e164)
    assert bool(facts.not_mobile) is (raw == "+44 20 7946 0958")


def test_phone_facts_refuse_what_phone_normalize_refuses():
    for raw in ("", "12", "+1 999 555 0100", "abc"):
        with pytest.raises(ApplicationError) as facts_error:
            phone_facts(raw, "US")
        with pytest.raises(ApplicationError) as normalize_error:
            phone_normalize(raw, "US")
        assert facts_error.value.fields == normalize_error.value.fields
