"""The message log's CSV export (``/messages/export/``): the log's filters, every page, its
columns and cells, who may download it, and a streamed file read in constant queries."""

from __future__ import annotations

import datetime
import html
import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import Contact
from contacts.services.contacts import contact_create
from messaging import export
from messaging.models import Direction, Message, Status, SuppressedReason
from templates_sms.models import SmsTemplate
from tenants.sources import Source
from tests.csv_download import download, records, rows
from tests.factories import page_text
from tests.messaging.log.helpers import LOG, NOON, add, add_many, bodies, link

pytestmark = pytest.mark.django_db

EXPORT = "/messages/export/"
NEW_YORK = "America/New_York"
HEADER = [
    "id",
    "created_at",
    f"created_at_local ({NEW_YORK})",
    "direction",
    "status",
    "error_code",
    "error_message",
    "suppressed_reason",
    "to",
    "from",
    "contact_id",
    "template_name",
    "segments",
    "encoding",
    "source",
    "body",
]
ADA_PHONE = "+14155550123"
BOB_PHONE = "+14155550124"
AUTOMATION = uuid.UUID("6a0e7c52-3f35-4d5c-9a55-2f6f0c2b9d11")


def exported(response: Any) -> list[str]:
    """The bodies the file holds, top to bottom."""
    return [record["body"] for record in records(response)]


def utc(day: int, hour: int, minute: int = 30) -> datetime.datetime:
    return datetime.datetime(2024, 1, day, hour, minute, tzinfo=datetime.UTC)


@pytest.fixture
def marketer(personas: Any) -> Any:
    return personas.client("marketer")


@pytest.fixture
def new_york(personas: Any) -> None:
    personas.org.time_zone = NEW_YORK
    personas.org.save(update_fields=["time_zone"])


@pytest.fixture
def welcome(personas: Any) -> SmsTemplate:
    return SmsTemplate.objects.create(organization=personas.org, name="Welcome", body="Hi!")


@pytest.fixture
def ada(personas: Any) -> Contact:
    return contact_create(organization=personas.org, phone=ADA_PHONE, first_name="Ada", source="ui")


@pytest.fixture
def log(personas: Any, new_york: None, welcome: SmsTemplate, ada: Contact) -> None:
    """Five messages, newest first a … e, in New York (UTC-5 in January), two of them on each
    side of a midnight there:

    a  Jan 16 00:30  outbound delivered, Welcome, Ada
    b  Jan 15 23:30  outbound failed, needs attention, Ada
    c  Jan 15 00:30  inbound received, Ada
    d  Jan 14 23:30  outbound delivered, another template, Bob, from an automation
    e  Jan 14 07:00  outbound suppressed (opted out), Bob
    """
    org = personas.org
    bob = contact_create(organization=org, phone=BOB_PHONE, first_name="Bob", source="ui")
    other = SmsTemplate.objects.create(organization=org, name="Reminder", body="Soon!")
    add(org, "a", at=utc(16, 5), template=welcome, contact=ada, to=ADA_PHONE)
    add(
        org,
        "b",
        at=utc(16, 4),
        status=Status.FAILED,
        needs_attention=True,
        contact=ada,
        to=ADA_PHONE,
    )
    add(
        org,
        "c",
        at=utc(15, 5),
        status=Status.RECEIVED,
        direction=Direction.INBOUND,
        contact=ada,
        from_number=ADA_PHONE,
    )
    add(
        org,
        "d",
        at=utc(15, 4),
        template=other,
        contact=bob,
        to=BOB_PHONE,
        source=Source.AUTOMATION,
        source_ref=str(AUTOMATION),
    )
    add(
        org,
        "e",
        at=utc(14, 12, 0),
        status=Status.SUPPRESSED,
        suppressed_reason=SuppressedReason.OPTED_OUT,
        contact=bob,
        to=BOB_PHONE,
    )


def contact_of(personas: Any, phone: str) -> str:
    return str(Contact.objects.get(organization=personas.org, phone=phone).public_id)


# --- The file -------------------------------------------------------------------------------


def test_it_writes_every_column_of_a_message(personas, marketer, new_york, welcome, ada):
    message = add(
        personas.org,
        "Bonjour Ada, ça va ? ☕🎉\nLine two, “quoted”",
        at=utc(15, 4, 5),
        status=Status.UNDELIVERED,
        error_code=30003,
        error_message="Unreachable destination handset",
        to=ADA_PHONE,
        from_number="+14155550100",
        contact=ada,
        template=welcome,
        segments=2,
        encoding="UCS-2",
        source=Source.UI,
    )

    [head, row] = rows(marketer.get(EXPORT))

    assert head == HEADER
    assert row == [
        str(message.public_id),
        "2024-01-15T04:05:00Z",
        "2024-01-14T23:05:00-05:00",
        "outbound",
        "undelivered",
        "30003",
        "Unreachable destination handset",
        "",
        "'" + ADA_PHONE,
        "'+14155550100",
        str(ada.public_id),
        "Welcome",
        "2",
        "UCS-2",
        "ui",
        "Bonjour Ada, ça va ? ☕🎉\nLine two, “quoted”",
    ]


def test_a_message_without_contact_template_or_error_leaves_those_cells_empty(personas, marketer):
    add(personas.org, "plain", status=Status.SUPPRESSED, suppressed_reason="too_long")

    [record] = records(marketer.get(EXPORT))

    assert record["contact_id"] == ""
    assert record["template_name"] == ""
    assert record["error_code"] == ""
    assert record["from"] == ""
    assert record["suppressed_reason"] == "too_long"
    assert record["created_at_local (UTC)"] == record["created_at"].replace("Z", "+00:00")


def test_the_file_keeps_utf8_and_emoji_byte_for_byte(personas, marketer):
    body = "Zoë 🎉 日本語 — ½ ✓ 👩🏽‍💻"
    add(personas.org, body)

    raw = marketer.get(EXPORT).getvalue()

    assert body.encode("utf-8") in raw
    assert exported(marketer.get(EXPORT)) == [body]


DANGEROUS = ['=HYPERLINK("http://x.example")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_a_cell_that_starts_like_a_formula_is_written_as_text(personas, marketer, value):
    add(personas.org, value, error_message=value, status=Status.FAILED)

    [record] = records(marketer.get(EXPORT))

    assert record["body"] == "'" + value
    assert record["error_message"] == "'" + value


def test_an_empty_log_gets_the_header_only(personas, marketer, new_york):
    assert download(marketer.get(EXPORT)) == ",".join(HEADER) + "\r\n"


def test_it_is_an_attachment_named_by_the_date_in_the_organizations_time_zone(
    personas, marketer, monkeypatch
):
    personas.org.time_zone = "Pacific/Auckland"
    personas.org.save(update_fields=["time_zone"])
    noon = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)  # 4 December there
    monkeypatch.setattr(timezone, "now", lambda: noon)

    response = marketer.get(EXPORT)

    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="messages-2026-12-04.csv"'


# --- The log's filters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["a", "b", "c", "d", "e"]),
        ({"status": "failed"}, ["b"]),
        ({"status": "delivered"}, ["a", "d"]),
        ({"status": "suppressed"}, ["e"]),
        ({"direction": "inbound"}, ["c"]),
        ({"direction": "outbound"}, ["a", "b", "d", "e"]),
        ({"attention": "on"}, ["b"]),
        ({"automation": str(AUTOMATION)}, ["d"]),
        ({"automation": str(uuid.uuid4())}, []),
        # Whole days in New York: 23:30 there is the day before in UTC's terms, and back.
        ({"since": "2024-01-15", "until": "2024-01-15"}, ["b", "c"]),
        ({"since": "2024-01-16"}, ["a"]),
        ({"until": "2024-01-14"}, ["d", "e"]),
        ({"since": "2024-01-14", "until": "2024-01-14"}, ["d", "e"]),
        ({"status": "delivered", "until": "2024-01-15"}, ["d"]),
        ({"direction": "outbound", "since": "2024-01-15", "attention": "on"}, ["b"]),
    ],
)
def test_it_exports_exactly_what_the_log_lists_for_each_filter(marketer, log, query, expected):
    assert exported(marketer.get(EXPORT, query)) == expected
    assert bodies(marketer.get(LOG, query)) == expected


def test_the_template_and_contact_filters_take_public_ids(personas, marketer, log, welcome):
    ada, bob = contact_of(personas, ADA_PHONE), contact_of(personas, BOB_PHONE)
    cases = [
        ({"template": str(welcome.public_id)}, ["a"]),
        ({"contact": ada}, ["a", "b", "c"]),
        ({"contact": bob}, ["d", "e"]),
        ({"contact": ada, "direction": "outbound"}, ["a", "b"]),
        ({"contact": bob, "template": str(welcome.public_id)}, []),
    ]
    for query, expected in cases:
        assert exported(marketer.get(EXPORT, query)) == expected, query
        assert bodies(marketer.get(LOG, query)) == expected, query


def test_it_exports_every_page_of_the_log_newest_first(personas, marketer):
    add_many(personas.org, 120)
    pages: list[str] = []
    older: str | None = ""
    while older is not None:
        response = marketer.get(LOG + older)
        pages += bodies(response)
        older = link(response, "next")

    assert len(pages) == 120
    assert exported(marketer.get(EXPORT)) == pages


def test_the_logs_page_cursor_does_not_narrow_the_export(personas, marketer):
    add_many(personas.org, 60)
    older = link(marketer.get(LOG), "next")
    assert older is not None

    assert len(exported(marketer.get(EXPORT + older))) == 60


# --- Invalid filters: ignored, as the log ignores them ----------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"status": "lost", "direction": "inbound"},
        {"direction": "sideways", "status": "received"},
        {"template": "not-a-uuid", "direction": "inbound"},
        {"template": str(uuid.uuid4()), "direction": "inbound"},
        {"contact": "not-a-uuid", "direction": "inbound"},
        {"contact": str(uuid.uuid4()), "direction": "inbound"},
        {"automation": "not-a-uuid", "direction": "inbound"},
        {"since": "yesterday", "direction": "inbound"},
        {"until": "2024-13-45", "direction": "inbound"},
        {"since": "9999-12-31", "direction": "inbound"},
        {"until": "0001-01-01", "direction": "inbound"},
    ],
)
def test_an_invalid_filter_is_ignored_and_the_others_still_apply(marketer, log, query):
    assert exported(marketer.get(EXPORT, query)) == ["c"]
    assert bodies(marketer.get(LOG, query)) == ["c"]


def test_an_end_date_before_the_start_date_is_dropped_as_on_the_log(marketer, log):
    query = {"since": "2024-01-15", "until": "2024-01-14"}

    assert exported(marketer.get(EXPORT, query)) == ["a", "b", "c"]
    assert bodies(marketer.get(LOG, query)) == ["a", "b", "c"]


def test_another_organizations_template_or_contact_is_ignored_and_theirs_stay_hidden(
    personas, marketer, log
):
    their_template = SmsTemplate.objects.create(
        organization=personas.other_org, name="Theirs", body="x"
    )
    their_contact = contact_create(organization=personas.other_org, phone=ADA_PHONE, source="ui")
    add(personas.other_org, "their secret", contact=their_contact, template=their_template)

    for query in (
        {"template": str(their_template.public_id), "direction": "inbound"},
        {"contact": str(their_contact.public_id), "direction": "inbound"},
    ):
        assert exported(marketer.get(EXPORT, query)) == ["c"]
        assert bodies(marketer.get(LOG, query)) == ["c"]


# --- Who may export -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["marketer", "admin", "owner"])
def test_marketers_and_above_may_export(personas, log, persona):
    assert exported(personas.client(persona).get(EXPORT)) == ["a", "b", "c", "d", "e"]


def test_a_viewer_is_refused(personas, log):
    response = personas.client("viewer").get(EXPORT)

    assert response.status_code == 403
    assert b",body" not in response.content


def test_anonymous_visitors_go_to_the_login_page(client, log):
    response = client.get(EXPORT)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={EXPORT}"


def test_another_organizations_messages_never_appear(personas, log):
    add(personas.other_org, "Hello from Beta")

    assert exported(personas.client("outsider").get(EXPORT)) == ["Hello from Beta"]
    assert "Hello from Beta" not in download(personas.client("owner").get(EXPORT))


# --- The link on the log --------------------------------------------------------------------


def export_link(response: Any) -> str | None:
    found = re.search(
        r'<a class="button" href="([^"]*)"[^>]*>Export CSV</a>', response.content.decode()
    )
    return html.unescape(found.group(1)) if found else None


def test_the_log_links_to_the_export_with_its_filters(personas, marketer, log):
    ada = contact_of(personas, ADA_PHONE)
    query = {"contact": ada, "direction": "outbound", "since": "2024-01-15"}

    href = export_link(marketer.get(LOG, query))

    assert href == f"{EXPORT}?contact={ada}&direction=outbound&since=2024-01-15"
    assert exported(marketer.get(href)) == ["a", "b"]


def test_the_link_leaves_out_the_logs_page_cursor(personas, marketer):
    add_many(personas.org, 60, status=Status.FAILED)
    older = link(marketer.get(LOG, {"status": "failed"}), "next")
    assert older is not None

    href = export_link(marketer.get(LOG + older))

    assert href == f"{EXPORT}?status=failed"


def test_the_link_without_filters_is_the_bare_export(marketer, log):
    assert export_link(marketer.get(LOG)) == EXPORT


def test_a_viewer_does_not_see_the_link(personas, log):
    text = page_text(personas.client("viewer").get(LOG))

    assert "Export CSV" not in text
    assert EXPORT not in text


# --- Streamed in constant queries -----------------------------------------------------------


def many(personas: Any, count: int, template: SmsTemplate, contact: Contact) -> None:
    """``count`` messages with a contact and a template each, in one query."""
    Message.objects.bulk_create(
        Message(
            organization=personas.org,
            body=f"message {n}",
            to=contact.phone,
            contact=contact,
            template=template,
            status=Status.DELIVERED,
        )
        for n in range(count)
    )


def queries_to_export(client: Any, query: dict[str, str] | None = None) -> tuple[int, int]:
    """The queries of a whole download (its streamed rows read), and its rows."""
    with CaptureQueriesContext(connection) as captured:
        found = rows(client.get(EXPORT, query or {}))
    return len(captured), len(found) - 1


@pytest.mark.parametrize("filtered", [False, True])
def test_the_queries_do_not_grow_with_the_rows(personas, marketer, welcome, ada, filtered):
    query = {"template": str(welcome.public_id), "contact": str(ada.public_id)} if filtered else {}
    many(personas, 10, welcome, ada)
    small, ten = queries_to_export(marketer, query)
    many(personas, 290, welcome, ada)
    big, three_hundred = queries_to_export(marketer, query)

    assert (ten, three_hundred) == (10, 300)
    assert small == big
    assert big <= 10


def test_rows_read_in_small_chunks_are_all_there_in_the_same_queries(
    personas, marketer, welcome, ada, monkeypatch
):
    many(personas, 30, welcome, ada)
    one_chunk, _ = queries_to_export(marketer)
    monkeypatch.setattr(export, "CHUNK_SIZE", 7)

    with CaptureQueriesContext(connection) as captured:
        found = records(marketer.get(EXPORT))

    assert len(captured) == one_chunk
    assert sorted(record["body"] for record in found) == sorted(f"message {n}" for n in range(30))
    assert {record["template_name"] for record in found} == {"Welcome"}
    assert {record["contact_id"] for record in found} == {str(ada.public_id)}


def test_the_rows_are_read_as_the_response_is_sent(personas, marketer):
    """Nothing but the header is produced before the body is read: a message added after the
    response was made, before it was read, is in the file."""
    add(personas.org, "before", at=NOON)
    response = marketer.get(EXPORT)
    add(personas.org, "after", at=NOON + datetime.timedelta(minutes=1))

    assert exported(response) == ["after", "before"]
