"""Which column goes where: guessed from the headers, remembered, checked; and the preview."""

from __future__ import annotations

import pytest

from contacts.imports.mapping import mapping_clean, mapping_guess
from contacts.imports.services import import_preview, import_start, options_clean
from contacts.models import ConsentSource, ContactImport, ImportState
from contacts.services.consent import consent_opt_out
from tenants.errors import ApplicationError
from tests.contacts.helpers import add
from tests.contacts.import_helpers import uploaded

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Phone", "phone"),
        ("Mobile", "phone"),
        ("phone_number", "phone"),
        ("Mobile Phone", "phone"),
        ("Cell", "phone"),
        ("First Name", "first_name"),
        ("first_name", "first_name"),
        ("Given name", "first_name"),
        ("Last Name", "last_name"),
        ("Surname", "last_name"),
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("Time zone", "time_zone"),
        ("Tags", "tags"),
        ("Renewal date", "custom.renewal_date"),
        ("Plan", "custom.plan"),
        ("2024 spend (€)", "custom.field_2024_spend"),
        ("***", ""),
    ],
)
def test_headers_are_guessed(personas, header, target):
    assert mapping_guess(personas.org, [header])["columns"] == [target]


def test_a_second_column_for_the_same_field_is_ignored(personas):
    assert mapping_guess(personas.org, ["Phone", "Mobile"])["columns"] == ["phone", ""]


def test_custom_fields_are_read_as_dates_by_their_name_or_their_values(personas):
    guess = mapping_guess(
        personas.org,
        ["Phone", "Birthday", "Joined", "Plan"],
        [["+14155550100", "1990-02-03", "2024-01-31", "gold"], ["+1415", "", "2023-12-01", "x"]],
    )

    assert guess["date_fields"] == ["birthday", "joined"]


def test_the_mapping_chosen_is_remembered_for_the_next_import(personas):
    rows = [["Numéro", "Prénom", "Phone"], ["+14155550100", "Ann", "x"]]
    first = uploaded(personas.org, rows)
    assert first.mapping["columns"] == ["custom.numero", "custom.prenom", "phone"]

    import_start(
        contact_import=first,
        mapping={"columns": ["phone", "first_name", ""], "date_fields": []},
    )
    second = uploaded(personas.org, rows)

    assert second.mapping["columns"] == ["phone", "first_name", ""]
    # Another organization's choices are its own.
    other = uploaded(personas.other_org, rows)
    assert other.mapping["columns"] == ["custom.numero", "custom.prenom", "phone"]


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"columns": ["", "first_name"]}, "Choose the column that holds the phone numbers"),
        ({"columns": ["phone", "phone"]}, "Two columns (“Phone” and “Name”) go to phone"),
        ({"columns": ["phone"]}, "one target per column: the file has 2"),
        ({"columns": ["phone", "nickname"]}, "“nickname” is not a target"),
        ({"columns": ["phone", "custom.Bad Key"]}, "a custom field name starts with"),
        ({"columns": {"Phone": "phone", "Nom": "first_name"}}, "The file has no column “Nom”"),
        ({"columns": ["phone", "first_name"], "date_fields": ["plan"]}, "Dates are read only"),
        ("phone", "The mapping is an object"),
        ({"columns": ["phone", "custom.plan"], "date_fields": [{}]}, "Dates are read only"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_with_its_reason(mapping, words):
    with pytest.raises(ApplicationError) as raised:
        mapping_clean(["Phone", "Name"], mapping)

    assert words in raised.value.message
    assert raised.value.fields == {"mapping": [raised.value.message]}


def test_a_mapping_by_header_is_one_target_per_column():
    cleaned = mapping_clean(
        ["Phone", "Name", "Plan"], {"columns": {"Name": "first_name", "Phone": "phone"}}
    )

    assert cleaned == {"columns": ["phone", "first_name", ""], "date_fields": []}


def test_the_preview_shows_the_first_rows_as_they_will_be_stored_with_their_problems(personas):
    add(personas.org, "+14155550101", first_name="Existing")
    consent_opt_out(organization=personas.org, phone="+14155550102", source=ConsentSource.USER)
    rows = [["Mobile", "First Name", "E-mail", "Tags", "Birthday"]]
    rows += [
        ["(415) 555-0100", "  Ann  ", "ANN@Example.com", "vip;new", "1990-02-03"],
        ["415.555.0101", "Bo", "", "", ""],
        ["+1 415 555 0102", "Cy", "", "vip", ""],
        ["", "Di", "not-an-email", "", "31/12/1990"],
    ]
    contact_import = uploaded(personas.org, rows)

    preview = import_preview(
        contact_import=contact_import,
        options={"tags": ["spring"], "tag_separator": ";"},
    )

    ann, bo, cy, di = preview
    assert ann.contact is not None
    assert (ann.line, ann.contact.phone, ann.contact.first_name, ann.contact.email) == (
        2,
        "+14155550100",
        "Ann",
        "ann@example.com",
    )
    assert ann.contact.tags == ["spring", "vip", "new"]
    assert ann.contact.custom_fields == {"birthday": "1990-02-03"}
    assert ann.contact.time_zone == "America/Los_Angeles"
    assert (ann.exists, ann.opted_out, ann.problems) == (False, False, [])
    assert bo.exists
    assert cy.opted_out
    assert cy.contact is not None
    assert cy.contact.tags == []
    assert [p.code for p in cy.problems] == ["opted_out"]
    assert di.contact is None
    assert [p.code for p in di.problems] == ["no_phone", "invalid_email", "invalid_date"]
    # A preview changes nothing.
    contact_import.refresh_from_db()
    assert contact_import.state == ImportState.UPLOADED
    assert ContactImport.objects.count() == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"tag_separator": []}, "tag_separator"),
        ({"tag_separator": "/"}, "tag_separator"),
        ({"existing": "merge"}, "existing"),
        ({"consent": "yes"}, "consent"),
        ({"country": "ZZ"}, "country"),
        ({"tags": {"a": 1}}, "tags"),
        ({"tags": ["Twilio-Message-stop"]}, "tags"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_options_that_cannot_work_are_refused_naming_the_option(personas, options, field):
    with pytest.raises(ApplicationError) as raised:
        options_clean(personas.org, options)

    assert field in (raised.value.fields or {})


@pytest.mark.parametrize(
    ("existing", "first_name", "last_name", "tags"),
    [
        ("fill_empty", "Ann", "Lee", ["spring", "vip"]),
        ("overwrite", "Zed", "Lee", ["spring", "vip"]),
        ("skip", "Ann", "", []),
    ],
)
def test_the_preview_of_an_existing_contact_is_what_the_option_will_leave(
    personas, existing, first_name, last_name, tags
):
    add(personas.org, "+14155550100", first_name="Ann", time_zone="Europe/Paris")
    contact_import = uploaded(
        personas.org,
        [["Phone", "First Name", "Last Name", "Tags"], ["+14155550100", "Zed", "Lee", "vip"]],
    )

    [row] = import_preview(
        contact_import=contact_import, options={"existing": existing, "tags": ["spring"]}
    )

    assert row.exists
    assert row.contact is not None
    assert (row.contact.first_name, row.contact.last_name, row.contact.tags) == (
        first_name,
        last_name,
        tags,
    )
    assert row.contact.time_zone == "Europe/Paris"
