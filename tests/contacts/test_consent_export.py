"""The consent ledger's CSV export (``/contacts/consent/export/``): every event, oldest first,
its columns and cells, who may download it, and a streamed file read in constant queries."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts import views_consent
from contacts.models import ConsentEvent, ConsentKind, ConsentSource, Contact
from contacts.services.consent import consent_help, consent_opt_in, consent_opt_out
from contacts.services.contacts import contact_delete
from tests.contacts.helpers import OTHER_PHONE, PHONE, add, numbered, stop_by_keyword
from tests.csv_download import download, records, rows
from tests.factories import page_text

pytestmark = pytest.mark.django_db

EXPORT = "/contacts/consent/export/"
NEW_YORK = "America/New_York"
HEADER = [
    "id",
    "created_at",
    f"created_at_local ({NEW_YORK})",
    "phone",
    "contact_id",
    "kind",
    "source",
    "message_sid",
    "actor",
]
SID = "SM" + "0123456789abcdef" * 2


def at(event: ConsentEvent | None, moment: datetime.datetime) -> None:
    """A known time for the latest event (or ``event``), so the order and times are known."""
    event = event or ConsentEvent.objects.latest("pk")
    ConsentEvent.objects.filter(pk=event.pk).update(created_at=moment)


def utc(day: int, hour: int, minute: int = 30) -> datetime.datetime:
    return datetime.datetime(2024, 1, day, hour, minute, tzinfo=datetime.UTC)


@pytest.fixture
def marketer(personas: Any) -> Any:
    return personas.client("marketer")


@pytest.fixture
def ledger(personas: Any) -> Contact:
    """In New York: Ada replies STOP (Jan 15, 23:30 there), HELP, then START; a user opts
    out a number that no contact has. Returns Ada."""
    org = personas.org
    org.time_zone = NEW_YORK
    org.save(update_fields=["time_zone"])
    ada = add(org, PHONE, first_name="Ada")
    consent_opt_out(
        organization=org, phone=PHONE, source=ConsentSource.INBOUND_KEYWORD, message_sid=SID
    )
    at(None, utc(16, 4))
    consent_help(organization=org, phone=PHONE, source=ConsentSource.INBOUND_KEYWORD)
    at(None, utc(16, 5))
    consent_opt_in(organization=org, phone=PHONE, source=ConsentSource.INBOUND_KEYWORD)
    at(None, utc(17, 9))
    consent_opt_out(
        organization=org,
        phone=OTHER_PHONE,
        source=ConsentSource.USER,
        user=personas.marketer,
        actor="Mia Marketer",
    )
    at(None, utc(18, 12, 0))
    return ada


# --- The file -------------------------------------------------------------------------------


def test_it_writes_the_whole_ledger_oldest_first(personas, marketer, ledger):
    events = list(ConsentEvent.objects.filter(organization=personas.org).order_by("created_at"))

    [head, *body] = rows(marketer.get(EXPORT))

    assert head == HEADER
    assert body == [
        [
            str(events[0].public_id),
            "2024-01-16T04:30:00Z",
            "2024-01-15T23:30:00-05:00",
            "'" + PHONE,
            str(ledger.public_id),
            "opt_out",
            "inbound_keyword",
            SID,
            "",
        ],
        [
            str(events[1].public_id),
            "2024-01-16T05:30:00Z",
            "2024-01-16T00:30:00-05:00",
            "'" + PHONE,
            str(ledger.public_id),
            "help",
            "inbound_keyword",
            "",
            "",
        ],
        [
            str(events[2].public_id),
            "2024-01-17T09:30:00Z",
            "2024-01-17T04:30:00-05:00",
            "'" + PHONE,
            str(ledger.public_id),
            "opt_in",
            "inbound_keyword",
            "",
            "",
        ],
        [
            str(events[3].public_id),
            "2024-01-18T12:00:00Z",
            "2024-01-18T07:00:00-05:00",
            "'" + OTHER_PHONE,
            "",
            "opt_out",
            "user",
            "",
            "Mia Marketer",
        ],
    ]


def test_the_contact_is_the_one_who_has_the_number_now(personas, marketer, ledger):
    """A contact deleted and created again keeps the number's history: the ledger names the
    new contact on its old events; a number no contact has any more has none."""
    contact_delete(contact=ledger, source="ui")
    gone = {record["contact_id"] for record in records(marketer.get(EXPORT))}
    again = add(personas.org, PHONE, first_name="Ada")
    other = add(personas.org, OTHER_PHONE, first_name="Olga")

    found = {record["phone"]: record["contact_id"] for record in records(marketer.get(EXPORT))}

    assert gone == {""}
    assert found == {"'" + PHONE: str(again.public_id), "'" + OTHER_PHONE: str(other.public_id)}


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x.example")', "+1", "-2", "@A1", "\tx"])
def test_a_cell_that_starts_like_a_formula_is_written_as_text(personas, marketer, value):
    consent_opt_out(
        organization=personas.org, phone=PHONE, source=ConsentSource.IMPORT, actor=value
    )

    [record] = records(marketer.get(EXPORT))

    assert record["actor"] == "'" + value
    assert record["phone"] == "'" + PHONE


def test_the_file_keeps_utf8_and_emoji(personas, marketer):
    consent_opt_out(
        organization=personas.org,
        phone=PHONE,
        source=ConsentSource.USER,
        actor="Zoë Ångström 🎉",
    )

    raw = marketer.get(EXPORT).getvalue()

    assert "Zoë Ångström 🎉".encode() in raw


def test_an_empty_ledger_gets_the_header_only(personas, marketer):
    assert download(marketer.get(EXPORT)) == ",".join(HEADER).replace(NEW_YORK, "UTC") + "\r\n"


def test_it_is_an_attachment_named_by_the_date_in_the_organizations_time_zone(
    personas, marketer, monkeypatch
):
    personas.org.time_zone = "Pacific/Auckland"
    personas.org.save(update_fields=["time_zone"])
    noon = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)  # 4 December there
    monkeypatch.setattr(timezone, "now", lambda: noon)

    response = marketer.get(EXPORT)

    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="consent-2026-12-04.csv"'


# --- Who may export -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["marketer", "admin", "owner"])
def test_marketers_and_above_may_export(personas, ledger, persona):
    assert len(records(personas.client(persona).get(EXPORT))) == 4


def test_a_viewer_is_refused(personas, ledger):
    response = personas.client("viewer").get(EXPORT)

    assert response.status_code == 403
    assert PHONE.encode() not in response.content


def test_anonymous_visitors_go_to_the_login_page(client, ledger):
    response = client.get(EXPORT)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={EXPORT}"


def test_another_organizations_ledger_never_appears(personas, ledger):
    add(personas.other_org, "+14155550999")
    stop_by_keyword(personas.other_org, "+14155550999")
    stop_by_keyword(personas.other_org, PHONE)  # the same number, in their organization

    theirs = records(personas.client("outsider").get(EXPORT))
    ours = records(personas.client("owner").get(EXPORT))

    assert sorted(record["phone"] for record in theirs) == ["'+14155550123", "'+14155550999"]
    assert {record["contact_id"] for record in theirs if record["phone"] == "'" + PHONE} == {""}
    assert "'+14155550999" not in {record["phone"] for record in ours}
    assert len(ours) == 4


# --- The link on the contacts list ----------------------------------------------------------

LINK = re.compile(r'<a class="button" href="([^"]*)"[^>]*>Export consent ledger</a>')


@pytest.mark.parametrize("persona", ["marketer", "admin", "owner"])
def test_the_contacts_list_links_to_the_ledger_next_to_its_export(personas, ledger, persona):
    text = page_text(personas.client(persona).get("/contacts/", {"tag": "vip"}))

    found = LINK.search(text)
    assert found is not None
    assert found.group(1) == EXPORT
    after_export = text.index(">Export CSV</a>") + len(">Export CSV</a>")
    assert text[after_export : found.start()].strip() == ""


def test_a_viewer_does_not_see_the_ledgers_link(personas, ledger):
    text = page_text(personas.client("viewer").get("/contacts/"))

    assert "Export consent ledger" not in text
    assert EXPORT not in text
    assert "Export CSV" in text


# --- Streamed in constant queries -----------------------------------------------------------


def many(personas: Any, count: int, start: int = 0) -> None:
    """``count`` events of numbers half of which a contact has, in two queries."""
    Contact.objects.bulk_create(
        Contact(organization=personas.org, phone=numbered(n), time_zone="UTC")
        for n in range(start, start + count, 2)
    )
    ConsentEvent.objects.bulk_create(
        ConsentEvent(
            organization=personas.org,
            phone=numbered(n),
            kind=ConsentKind.OPT_OUT,
            source=ConsentSource.IMPORT,
        )
        for n in range(start, start + count)
    )


def queries_to_export(client: Any) -> tuple[int, list[dict[str, str]]]:
    with CaptureQueriesContext(connection) as captured:
        found = records(client.get(EXPORT))
    return len(captured), found


def test_the_queries_do_not_grow_with_the_rows(personas, marketer):
    many(personas, 10)
    small, ten = queries_to_export(marketer)
    many(personas, 290, start=10)
    big, three_hundred = queries_to_export(marketer)

    assert (len(ten), len(three_hundred)) == (10, 300)
    assert sum(1 for record in three_hundred if record["contact_id"]) == 150
    assert small == big
    assert big <= 10


def test_rows_read_in_small_chunks_are_all_there_in_the_same_queries(
    personas, marketer, monkeypatch
):
    many(personas, 30)
    one_chunk, _ = queries_to_export(marketer)
    monkeypatch.setattr(views_consent, "CHUNK_SIZE", 7)

    queries, found = queries_to_export(marketer)

    assert queries == one_chunk
    assert sorted(record["phone"] for record in found) == sorted(
        "'" + numbered(n) for n in range(30)
    )
