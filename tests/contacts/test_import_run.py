"""The run: rows into contacts a batch at a time, each problem reported with its line,
duplicates (the later row wins), existing contacts under each option, consent kept."""

from __future__ import annotations

import pytest

from contacts.imports import run
from contacts.imports.files import import_report
from contacts.models import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    Contact,
    ImportIssue,
    ImportState,
)
from contacts.services.consent import consent_opt_out
from tests.contacts.helpers import add
from tests.contacts.import_helpers import imported

pytestmark = pytest.mark.django_db

HEADER = ["Phone", "First Name", "Last Name", "Email", "Time zone", "Tags", "Birthday"]


def row(
    phone: str,
    first: str = "",
    last: str = "",
    email: str = "",
    zone: str = "",
    tags: str = "",
    birthday: str = "",
) -> list[str]:
    return [phone, first, last, email, zone, tags, birthday]


def issues(contact_import) -> list[tuple[int, str]]:
    return list(
        ImportIssue.objects.filter(contact_import=contact_import).values_list("line", "code")
    )


def counts(contact_import) -> tuple[int, int, int, int, int]:
    c = contact_import
    return (c.created, c.updated, c.unchanged, c.errors, c.opted_out)


def test_rows_become_contacts_with_their_fields_tags_and_dates(personas):
    contact_import = imported(
        personas.org,
        [
            HEADER,
            row(
                "(415) 555-0100",
                " Ann ",
                "Lee",
                "Ann@Example.com",
                "Europe/Paris",
                "vip, new",
                "1992-02-29",
            ),
            row("'+14155550101", "Bo"),  # as the export (and spreadsheets) write "+1…"
        ],
        options={"tags": ["spring-list"]},
    )

    assert contact_import.state == ImportState.COMPLETED
    assert (contact_import.cursor, contact_import.total) == (2, 2)
    assert counts(contact_import) == (2, 0, 0, 0, 0)
    ann = Contact.objects.get(phone="+14155550100")
    assert (ann.first_name, ann.last_name, ann.email, ann.time_zone) == (
        "Ann",
        "Lee",
        "ann@example.com",
        "Europe/Paris",
    )
    assert ann.custom_fields == {"birthday": "1992-02-29"}
    assert sorted(ann.tags.values_list("name", flat=True)) == ["new", "spring-list", "vip"]
    assert ann.search == "ann lee ann@example.com 14155550100"
    bo = Contact.objects.get(phone="+14155550101")
    assert bo.time_zone == "America/Los_Angeles"  # from the number, as for one contact
    assert sorted(bo.tags.values_list("name", flat=True)) == ["spring-list"]


def test_every_reason_a_row_is_refused_is_reported_with_its_line_and_nothing_of_it_stored(
    personas,
):
    contact_import = imported(
        personas.org,
        [
            HEADER,
            row("", "No phone"),
            row("12", "Too short"),
            row("+44 20 7946 0958", "Landline"),
            row("+14155550103", email="not-an-email"),
            row("+14155550104", birthday="03/02/1990"),
            row("+14155550105", tags="vip, Twilio-Message-stop"),
            row("+14155550106", first="x" * 101),
            row("+14155550107", zone="Mars/Olympus"),
            row("+14155550108", tags="bad<tag>"),
            row("+14155550109", "Fine"),
        ],
    )

    assert issues(contact_import) == [
        (2, "no_phone"),
        (3, "invalid_phone"),
        (4, "not_mobile"),
        (5, "invalid_email"),
        (6, "invalid_date"),
        (7, "reserved_tag"),
        (8, "too_long"),
        (9, "invalid_time_zone"),
        (10, "invalid_tag"),
    ]
    assert counts(contact_import) == (1, 0, 0, 9, 0)
    assert list(Contact.objects.values_list("phone", flat=True)) == ["+14155550109"]
    reasons = dict(
        ImportIssue.objects.filter(contact_import=contact_import).values_list("code", "reason")
    )
    assert reasons["no_phone"] == "No phone number."
    assert reasons["not_mobile"] == "+44 20 7946 0958 is a landline: it cannot receive texts."
    assert "is kept for opt-outs" in reasons["reserved_tag"]
    assert reasons["too_long"] == "first_name: at most 100 characters."
    assert reasons["invalid_date"] == (
        "custom.birthday: “03/02/1990” is not a date written YYYY-MM-DD."
    )


def test_a_row_with_several_problems_is_one_report_row_with_every_reason(personas):
    contact_import = imported(personas.org, [HEADER, row("", email="x", birthday="1990-13-01")])

    [issue] = ImportIssue.objects.filter(contact_import=contact_import)
    assert issue.code == "no_phone"
    assert issue.reason == (
        "No phone number. “x” is not an e-mail address. custom.birthday: “1990-13-01” is not a "
        "date written YYYY-MM-DD."
    )
    assert counts(contact_import) == (0, 0, 0, 1, 0)


@pytest.mark.parametrize("batch", [1000, 2], ids=["one-batch", "across-batches"])
def test_two_rows_with_one_number_the_later_wins_and_the_earlier_is_reported(
    personas, monkeypatch, batch
):
    monkeypatch.setattr(run, "BATCH", batch)
    contact_import = imported(
        personas.org,
        [
            HEADER,
            row("+14155550100", "Ann", "Early", tags="first"),
            row("+14155550199", "Other"),
            row("+14155550120", "Cy"),
            row("(415) 555-0100", "Ann", "Late", tags="second"),
        ],
    )

    ann = Contact.objects.get(phone="+14155550100")
    assert ann.last_name == "Late"
    assert issues(contact_import) == [(2, "duplicate")]
    assert ImportIssue.objects.get().reason == (
        "The same number as line 5, further down the file: that row was imported instead."
    )
    # Each row counts once: 3 contacts created, the earlier row an error.
    assert counts(contact_import) == (3, 0, 0, 1, 0)
    assert Contact.objects.count() == 3
    if batch == 1000:  # in one batch the earlier row is never written
        assert sorted(ann.tags.values_list("name", flat=True)) == ["second"]


def test_an_opted_out_number_stays_opted_out_untagged_and_without_an_opt_in(personas):
    consent_opt_out(organization=personas.org, phone="+14155550100", source=ConsentSource.USER)
    contact_import = imported(
        personas.org,
        [HEADER, row("+14155550100", "Ann", tags="vip"), row("+14155550101", "Bo", tags="vip")],
        options={"tags": ["spring"], "consent": True},
    )

    ann = Contact.objects.get(phone="+14155550100")
    assert list(ann.tags.values_list("name", flat=True)) == ["Twilio-Message-stop"]
    assert ConsentState.objects.get(phone="+14155550100").opted_out
    opt_ins = ConsentEvent.objects.filter(kind=ConsentKind.OPT_IN)
    assert list(opt_ins.values_list("phone", "source")) == [("+14155550101", "import")]
    assert issues(contact_import) == [(2, "opted_out")]
    assert "stays opted out" in ImportIssue.objects.get().reason
    # Imported all the same (its name is written), counted, and noted.
    assert ann.first_name == "Ann"
    assert counts(contact_import) == (2, 0, 0, 0, 1)


def test_consent_is_recorded_as_an_import_opt_in_by_who_started_it(personas):
    from tests.contacts.import_helpers import run, uploaded

    contact_import = run(
        uploaded(personas.org, [HEADER, row("+14155550100")], by=personas.marketer),
        options={"consent": True},
    )

    event = ConsentEvent.objects.get()
    assert (event.kind, event.source, event.user, event.phone) == (
        ConsentKind.OPT_IN,
        ConsentSource.IMPORT,
        personas.marketer,
        "+14155550100",
    )
    assert event.contact == Contact.objects.get()
    assert event.actor == "Import of contacts.csv"
    assert contact_import.state == ImportState.COMPLETED
    # Without the statement, no ledger row.
    imported(personas.org, [HEADER, row("+14155550101")])
    assert ConsentEvent.objects.count() == 1


@pytest.fixture
def ann(personas) -> Contact:
    return add(
        personas.org,
        "+14155550100",
        first_name="Ann",
        last_name="",
        email="ann@old.example.com",
        custom_fields={"plan": "gold"},
        tags=["old"],
    )


FILE = [
    ["Phone", "First Name", "Last Name", "Email", "Plan", "Tags"],
    ["+14155550100", "Annie", "Lee", "ann@new.example.com", "silver", "new"],
]


@pytest.mark.parametrize(
    ("existing", "fields", "tags", "outcome"),
    [
        ("fill_empty", ("Ann", "Lee", "ann@old.example.com", "gold"), ["new", "old"], "updated"),
        ("overwrite", ("Annie", "Lee", "ann@new.example.com", "silver"), ["new", "old"], "updated"),
        ("skip", ("Ann", "", "ann@old.example.com", "gold"), ["old"], "unchanged"),
    ],
)
def test_existing_contacts_under_each_option(personas, ann, existing, fields, tags, outcome):
    contact_import = imported(personas.org, FILE, options={"existing": existing})

    ann.refresh_from_db()
    assert (ann.first_name, ann.last_name, ann.email, ann.custom_fields["plan"]) == fields
    assert sorted(ann.tags.values_list("name", flat=True)) == tags
    assert getattr(contact_import, outcome) == 1
    assert contact_import.created == 0


def test_an_existing_contact_the_file_does_not_change_is_unchanged(personas, ann):
    contact_import = imported(
        personas.org, [["Phone", "First Name", "Tags"], ["+14155550100", "Ann", "old"]]
    )

    assert counts(contact_import) == (0, 0, 1, 0, 0)


def test_the_error_report_has_the_original_rows_their_lines_and_reasons_in_file_order(
    personas, monkeypatch
):
    monkeypatch.setattr(run, "BATCH", 2)
    contact_import = imported(
        personas.org,
        [
            HEADER,
            row("+14155550100", "Ann"),
            row("", "No phone\nsecond line"),
            row("+14155550101"),
            row("+14155550100", "Ann again"),
        ],
    )

    assert list(import_report(contact_import)) == [
        ["line", "reason", *HEADER],
        [
            "2",
            "The same number as line 6, further down the file: that row was imported instead.",
            *row("+14155550100", "Ann"),
        ],
        ["3", "No phone number.", *row("", "No phone\nsecond line")],
    ]


def test_a_contact_that_changes_is_announced_with_its_fields_for_the_date_schedules(
    personas, ann, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        imported(personas.org, FILE, options={"existing": "overwrite"})

    updated = [payload for name, payload in events if name == "contact_updated"]
    assert [(p["contact_ids"], p["fields"]) for p in updated] == [
        ([ann.pk], ["first_name", "last_name", "email", "custom.plan"])
    ]
    # Without "Fire automations", the events say so: automations do not follow them.
    tagged = [payload for name, payload in events if name == "tag_added"]
    assert [(p["tag_name"], p.get("automations")) for p in tagged] == [("new", False)]
