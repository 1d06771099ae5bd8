"""The message log (/messages/): who sees it, its filters, keyset pages, status words, and the
counts per status (a fragment of its own, /messages/counts/)."""

from __future__ import annotations

import base64
import datetime
import html
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from contacts.services.contacts import contact_create
from messaging.models import Direction, Message, Status, SuppressedReason
from messaging.statuses import STATUS_WORDS, explain
from templates_sms.models import SmsTemplate
from tenants.models import Organization
from tests.factories import page_text

pytestmark = pytest.mark.django_db

LOG = "/messages/"
COUNTS = "/messages/counts/"
ROLES = ["owner", "admin", "marketer", "viewer"]
REMOVE = "\N{MULTIPLICATION SIGN} Remove"  # the contact chip's link
NOON = datetime.datetime(2024, 3, 4, 12, 0, tzinfo=datetime.UTC)


# --- Builders and readers -------------------------------------------------------------------


def add(
    organization: Organization, body: str, *, at: datetime.datetime | None = None, **fields: Any
) -> Message:
    """A message of ``organization`` created ``at`` (default: one hour before NOON)."""
    fields.setdefault("to", "+14155550100")
    fields.setdefault("status", Status.DELIVERED)
    message = Message.objects.create(organization=organization, body=body, **fields)
    message.created_at = at or NOON - datetime.timedelta(hours=1)
    Message.objects.filter(pk=message.pk).update(created_at=message.created_at)
    return message


def add_many(organization: Organization, count: int, **fields: Any) -> list[Message]:
    """``count`` messages "message 001" (newest) … one minute apart, newest first."""
    return [
        add(organization, f"message {n:03d}", at=NOON - datetime.timedelta(minutes=n), **fields)
        for n in range(1, count + 1)
    ]


def bodies(response: Any) -> list[str]:
    """The bodies the log lists, top to bottom."""
    assert response.status_code == 200
    cells = re.findall(r'<td class="message-body">(.*?)(?:<br>|</td>)', response.content.decode())
    return [html.unescape(cell) for cell in cells]


def numbered(first: int, last: int) -> list[str]:
    return [f"message {n:03d}" for n in range(first, last + 1)]


def link(response: Any, rel: str) -> str | None:
    """The href of the pagination link with that rel ("next" = Older, "prev" = Newer)."""
    found = re.search(rf'href="([^"]*)" rel="{rel}"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def counts(response: Any) -> dict[str, tuple[int, dict[str, list[str]]]]:
    """The counts fragment as {label: (count, query of its link)}."""
    assert response.status_code == 200
    found = {}
    for href, inner in re.findall(
        r'<li><a href="([^"]*)"[^>]*>(.*?)</a></li>', page_text(response)
    ):
        label, count = re.sub(r"<[^>]+>", "", inner).split()
        found[label] = (int(count), parse_qs(urlsplit(href).query))
    return found


@pytest.fixture
def viewer(personas: Any) -> Any:
    return personas.client("viewer")


@pytest.fixture
def template(personas: Any) -> SmsTemplate:
    return SmsTemplate.objects.create(organization=personas.org, name="Welcome", body="Hi!")


@pytest.fixture
def ada(personas: Any) -> Contact:
    return contact_create(
        organization=personas.org,
        phone="+14155550123",
        first_name="Ada",
        last_name="Lovelace",
        source="ui",
    )


@pytest.fixture
def sample(personas: Any, template: SmsTemplate, ada: Contact) -> None:
    """Five messages, newest first: a … e."""
    org = personas.org

    def at(minutes: int) -> datetime.datetime:
        return NOON - datetime.timedelta(minutes=minutes)

    add(org, "a", at=at(1), template=template, contact=ada)
    add(org, "b", at=at(2), status=Status.FAILED, contact=ada, needs_attention=True)
    add(
        org,
        "c",
        at=at(3),
        status=Status.RECEIVED,
        direction=Direction.INBOUND,
        contact=ada,
        from_number=ada.phone,
    )
    add(org, "d", at=at(4))
    add(org, "e", at=at(5), status=Status.FAILED, template=template, needs_attention=True)


# --- Who sees the log -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ROLES)
def test_every_member_sees_the_organizations_messages(personas, persona):
    add(personas.org, "Hello from Acme")
    add(personas.other_org, "Hello from Beta")
    response = personas.client(persona).get(LOG)
    assert bodies(response) == ["Hello from Acme"]


def test_the_outsider_sees_only_their_own_organizations_messages(personas):
    add(personas.org, "Hello from Acme")
    add(personas.other_org, "Hello from Beta")
    text = page_text(personas.client("outsider").get(LOG))
    assert "Hello from Beta" in text
    assert "Hello from Acme" not in text


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(LOG)
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/messages/"


def test_the_navigation_links_to_the_log(viewer):
    assert re.search(r'<a href="/messages/"[^>]*>Messages</a>', page_text(viewer.get("/")))


# --- Empty states -----------------------------------------------------------------------------


def test_an_organization_without_messages_is_told_so(viewer):
    text = page_text(viewer.get(LOG))
    assert "No messages yet" in text
    assert "No messages match" not in text


def test_filters_matching_nothing_offer_to_clear_them(personas, viewer):
    add(personas.org, "delivered one")
    response = viewer.get(LOG, {"status": "failed"})
    text = page_text(response)
    assert bodies(response) == []
    assert "No messages match" in text
    assert '<a class="button" href="/messages/">Clear filters</a>' in text
    assert "No messages yet" not in text


# --- Order and filters ------------------------------------------------------------------------


def test_the_newest_message_comes_first(viewer, sample):
    assert bodies(viewer.get(LOG)) == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "failed"}, ["b", "e"]),
        ({"status": "received"}, ["c"]),
        ({"direction": "inbound"}, ["c"]),
        ({"direction": "outbound"}, ["a", "b", "d", "e"]),
        ({"attention": "on"}, ["b", "e"]),
        ({"status": "failed", "attention": "on"}, ["b", "e"]),
        ({"status": "delivered", "direction": "outbound"}, ["a", "d"]),
    ],
)
def test_each_filter_narrows_the_log(viewer, sample, query, expected):
    assert bodies(viewer.get(LOG, query)) == expected


def test_the_template_filter_takes_the_templates_public_id(viewer, sample, template):
    assert bodies(viewer.get(LOG, {"template": str(template.public_id)})) == ["a", "e"]
    query = {"template": str(template.public_id), "status": "failed"}
    assert bodies(viewer.get(LOG, query)) == ["e"]


def test_the_contact_filter_names_the_contact_with_a_remove_link(viewer, sample, ada):
    response = viewer.get(LOG, {"direction": "outbound", "contact": str(ada.public_id)})
    assert bodies(response) == ["a", "b"]
    text = page_text(response)
    assert "Contact: <span" in text
    assert "Ada Lovelace · +14155550123" in text
    remove = re.search(rf'<a href="([^"]*)"[^>]*>{REMOVE}</a>', text)
    assert remove is not None
    assert remove.group(1) == "?direction=outbound"


@pytest.fixture
def around_midnight(personas: Any) -> None:
    """New York is UTC-5 in January: 04:30 UTC is 23:30 the day before there."""
    personas.org.time_zone = "America/New_York"
    personas.org.save(update_fields=["time_zone"])

    def utc(day: int, hour: int) -> datetime.datetime:
        return datetime.datetime(2024, 1, day, hour, 30, tzinfo=datetime.UTC)

    add(personas.org, "Jan 14 late", at=utc(15, 4))
    add(personas.org, "Jan 15 early", at=utc(15, 5))
    add(personas.org, "Jan 15 late", at=utc(16, 4))
    add(personas.org, "Jan 16 early", at=utc(16, 5))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"since": "2024-01-15", "until": "2024-01-15"}, ["Jan 15 late", "Jan 15 early"]),
        ({"since": "2024-01-15"}, ["Jan 16 early", "Jan 15 late", "Jan 15 early"]),
        ({"until": "2024-01-15"}, ["Jan 15 late", "Jan 15 early", "Jan 14 late"]),
        ({"since": "2024-01-16", "until": "2024-01-16"}, ["Jan 16 early"]),
        ({"until": "2024-01-14"}, ["Jan 14 late"]),
    ],
)
def test_dates_are_whole_days_in_the_organizations_time_zone(
    viewer, around_midnight, query, expected
):
    assert bodies(viewer.get(LOG, query)) == expected


def test_times_are_shown_in_the_organizations_time_zone(viewer, around_midnight):
    text = page_text(viewer.get(LOG, {"since": "2024-01-15", "until": "2024-01-15"}))
    assert "Times and dates in America/New_York." in text
    assert "Jan 15, 23:30" in text  # "Jan 15 late": 04:30 UTC on the 16th
    assert "Jan 15, 00:30" in text  # "Jan 15 early": 05:30 UTC


# --- Invalid filters --------------------------------------------------------------------------


def test_an_unknown_status_is_reported_and_ignored(viewer, sample):
    response = viewer.get(LOG, {"status": "lost", "direction": "inbound"})
    assert bodies(response) == ["c"]
    assert "Select a valid choice. lost is not one of the available choices." in page_text(response)


def test_another_organizations_template_is_reported_and_ignored(personas, viewer, sample):
    theirs = SmsTemplate.objects.create(organization=personas.other_org, name="Theirs", body="x")
    response = viewer.get(LOG, {"template": str(theirs.public_id), "direction": "inbound"})
    assert bodies(response) == ["c"]
    assert "Select a valid choice." in page_text(response)


def test_a_contact_that_does_not_exist_is_reported_and_ignored(viewer, sample):
    response = viewer.get(LOG, {"contact": str(uuid.uuid4()), "direction": "inbound"})
    assert bodies(response) == ["c"]
    text = page_text(response)
    assert "That contact no longer exists." in text
    assert REMOVE not in text


def test_another_organizations_contact_is_reported_and_its_messages_stay_hidden(
    personas, viewer, sample
):
    theirs = contact_create(organization=personas.other_org, phone="+14155550199", source="ui")
    add(personas.other_org, "their secret", contact=theirs)
    response = viewer.get(LOG, {"contact": str(theirs.public_id), "direction": "inbound"})
    assert bodies(response) == ["c"]
    assert "That contact no longer exists." in page_text(response)


def test_a_malformed_contact_id_reads_like_a_missing_contact(viewer, sample):
    """A truncated or edited link: the form's own message, not Django's UUID error.

    Fails today: ModelChoiceField (Django 5.2) lets the UUIDField's ValidationError through,
    so the page says “not-a-uuid” is not a valid UUID. instead.
    """
    response = viewer.get(LOG, {"contact": "not-a-uuid", "direction": "inbound"})
    assert bodies(response) == ["c"]
    text = page_text(response)
    assert "That contact no longer exists." in text
    assert "is not a valid UUID" not in text


def test_an_end_date_before_the_start_date_is_reported(viewer, around_midnight):
    query = {"since": "2024-01-15", "until": "2024-01-14", "status": "delivered"}
    response = viewer.get(LOG, query)
    assert "The end date is before the start date." in page_text(response)
    # The end date is dropped; the start date stays, as does everything else.
    assert bodies(response) == ["Jan 16 early", "Jan 15 late", "Jan 15 early"]


@pytest.mark.parametrize("value", ["0001-01-01", "1999-12-31", "3000-01-01", "9999-12-31"])
def test_a_day_outside_the_years_2000_to_2999_is_reported_and_ignored(viewer, sample, value):
    for field in ("since", "until"):
        response = viewer.get(LOG, {field: value, "direction": "inbound"})
        assert bodies(response) == ["c"]
        assert "Choose a day between 2000-01-01 and 2999-12-31." in page_text(response)
        assert viewer.get(COUNTS, {field: value}).status_code == 200


@pytest.mark.parametrize("value", ["2024-13-45", "yesterday", "15/01/2024"])
def test_a_malformed_date_is_reported_and_ignored(viewer, sample, value):
    response = viewer.get(LOG, {"since": value, "direction": "inbound"})
    assert bodies(response) == ["c"]
    assert "Enter a valid date." in page_text(response)


# --- Keyset pages -----------------------------------------------------------------------------


def test_pages_of_fifty_go_older_and_back_newer(personas, viewer):
    add_many(personas.org, 120)
    first = viewer.get(LOG)
    assert bodies(first) == numbered(1, 50)
    assert link(first, "prev") is None

    assert "Older →" in page_text(first)
    older = link(first, "next")
    assert older is not None
    second = viewer.get(LOG + older)
    assert bodies(second) == numbered(51, 100)
    assert "← Newer" in page_text(second)

    last_link = link(second, "next")
    assert last_link is not None
    last = viewer.get(LOG + last_link)
    assert bodies(last) == numbered(101, 120)
    assert link(last, "next") is None

    newer = link(second, "prev")
    assert newer is not None
    back = viewer.get(LOG + newer)
    assert bodies(back) == numbered(1, 50)
    assert link(back, "prev") is None


def walk(viewer: Any, rel: str, start: str) -> tuple[list[list[str]], Any]:
    """The pages met following the ``rel`` links from ``start``, and the last response."""
    pages: list[list[str]] = []
    url: str | None = start
    while url is not None:
        response = viewer.get(url)
        pages.append(bodies(response))
        found = link(response, rel)
        url = LOG + found if found else None
    return pages, response


def test_pages_neither_repeat_nor_skip_messages_created_at_the_same_moment(personas, viewer):
    for n in range(1, 121):
        add(personas.org, f"same {n:03d}", at=NOON)
    down, last = walk(viewer, "next", LOG)
    assert [len(page) for page in down] == [50, 50, 20]
    assert sorted(body for page in down for body in page) == [
        f"same {n:03d}" for n in range(1, 121)
    ]
    newer = link(last, "prev")
    assert newer is not None
    up, _ = walk(viewer, "prev", LOG + newer)
    assert up == down[-2::-1]


def test_the_next_page_is_stable_when_messages_arrive_meanwhile(personas, viewer):
    add_many(personas.org, 120)
    first = viewer.get(LOG)
    older = link(first, "next")
    assert older is not None
    for n in range(10):
        add(personas.org, f"new {n}", at=NOON + datetime.timedelta(minutes=n + 1))
    assert bodies(viewer.get(LOG + older)) == numbered(51, 100)


def test_a_garbage_cursor_shows_the_first_page(personas, viewer):
    add_many(personas.org, 60)
    naive = base64.urlsafe_b64encode(f"2024-03-04T11:00:00|{uuid.uuid4()}".encode()).decode()
    for query in ({"older": "not-a-cursor"}, {"newer": "%%%"}, {"older": naive}):
        response = viewer.get(LOG, query)
        assert bodies(response) == numbered(1, 50)
        assert link(response, "prev") is None


def test_pages_keep_the_filters(personas, viewer):
    add_many(personas.org, 60, status=Status.FAILED)
    for n in range(60):
        add(personas.org, f"delivered {n}", at=NOON - datetime.timedelta(minutes=n, seconds=30))
    first = viewer.get(LOG, {"status": "failed"})
    assert bodies(first) == numbered(1, 50)
    older = link(first, "next")
    assert older is not None
    assert parse_qs(urlsplit(older).query)["status"] == ["failed"]
    second = viewer.get(LOG + older)
    assert bodies(second) == numbered(51, 60)
    newer = link(second, "prev")
    assert newer is not None
    assert parse_qs(urlsplit(newer).query)["status"] == ["failed"]
    assert bodies(viewer.get(LOG + newer)) == numbered(1, 50)


# --- Status words ---------------------------------------------------------------------------


def row_text(response: Any) -> str:
    rows = re.findall(r"<tr>(.*?)</tr>", page_text(response), flags=re.S)
    assert len(rows) == 2  # the header and the one message
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rows[1]))


@pytest.mark.parametrize("status", list(STATUS_WORDS))
def test_each_status_shows_its_label_and_meaning(personas, viewer, status):
    add(personas.org, "hello", status=status)
    words = STATUS_WORDS[status]
    text = row_text(viewer.get(LOG))
    assert words.label in text
    assert words.meaning in text


@pytest.mark.parametrize(
    ("status", "label", "meaning"),
    [
        (Status.QUEUED, "Queued", "Twilio has the request and will send from your number."),
        (Status.ACCEPTED, "Accepted", "A Messaging Service is choosing the best sender."),
        (Status.SENDING, "Sending", "On its way to the carrier."),
        (Status.SENT, "Sent", "The carrier accepted it."),
    ],
)
def test_in_flight_statuses_read_in_words(personas, viewer, status, label, meaning):
    add(personas.org, "hello", status=status)
    text = row_text(viewer.get(LOG))
    assert f" {label} " in text
    assert meaning in text


@pytest.mark.parametrize("status", [Status.FAILED, Status.UNDELIVERED])
def test_a_failed_row_gives_the_reason(personas, viewer, status):
    add(personas.org, "hello", status=status, error_code=30007, error_message=explain(30007))
    text = row_text(viewer.get(LOG))
    assert f"{STATUS_WORDS[status].meaning} {explain(30007)}" in text


def test_a_suppressed_row_says_why_it_was_not_sent(personas, viewer):
    add(
        personas.org,
        "hello",
        status=Status.SUPPRESSED,
        suppressed_reason=SuppressedReason.OPTED_OUT,
    )
    assert "Not sent, on purpose: The number opted out" in row_text(viewer.get(LOG))


def test_the_row_flags_a_message_that_needs_attention(personas, viewer):
    add(personas.org, "hello", status=Status.SUBMITTING, needs_attention=True)
    assert "Needs attention" in row_text(viewer.get(LOG))


# --- Counts per status ----------------------------------------------------------------------


@pytest.fixture
def mix(personas: Any) -> None:
    for n in range(3):
        add(personas.org, f"delivered {n}")
    for n in range(2):
        add(personas.org, f"failed {n}", status=Status.FAILED)
    add(personas.org, "reply", status=Status.RECEIVED, direction=Direction.INBOUND)


def test_the_counts_cover_every_status_of_the_other_filters(viewer, mix):
    found = counts(viewer.get(COUNTS))
    assert {label: count for label, (count, _) in found.items()} == {
        "All": 6,
        "Delivered": 3,
        "Failed": 2,
        "Received": 1,
    }
    # The status filter itself is not applied to the counts: each count stays reachable.
    found = counts(viewer.get(COUNTS, {"status": "failed"}))
    assert found["Delivered"][0] == 3
    assert found["All"][0] == 6


def test_the_counts_apply_the_other_filters(viewer, mix):
    found = counts(viewer.get(COUNTS, {"direction": "inbound"}))
    assert {label: count for label, (count, _) in found.items()} == {"All": 1, "Received": 1}
    found = counts(viewer.get(COUNTS, {"direction": "outbound", "status": "received"}))
    assert {label: count for label, (count, _) in found.items()} == {
        "All": 5,
        "Delivered": 3,
        "Failed": 2,
    }


def test_the_count_links_set_the_status_and_keep_the_other_filters(viewer, mix):
    found = counts(viewer.get(COUNTS, {"direction": "outbound", "status": "delivered"}))
    assert found["Failed"][1] == {"direction": ["outbound"], "status": ["failed"]}
    assert found["Delivered"][1] == {"direction": ["outbound"], "status": ["delivered"]}
    assert found["All"][1] == {"direction": ["outbound"]}


def test_the_counts_say_when_there_is_nothing_to_count(viewer):
    assert "No messages to count." in page_text(viewer.get(COUNTS))


def test_the_counts_of_the_outsider_are_their_organizations(personas, mix):
    add(personas.other_org, "theirs", status=Status.SENT)
    found = counts(personas.client("outsider").get(COUNTS))
    assert {label: count for label, (count, _) in found.items()} == {"All": 1, "Sent": 1}


def test_the_log_loads_its_counts_from_the_fragment_with_the_same_filters(viewer, mix):
    query = {"direction": "outbound", "status": "delivered", "older": "ignored"}
    text = page_text(viewer.get(LOG, query))
    wanted = urlencode({"direction": "outbound", "status": "delivered"})
    assert f'data-fragment="{COUNTS}?{wanted}"' in text
    assert f'data-fragment="{COUNTS}"' in page_text(viewer.get(LOG))


def test_the_log_does_not_count_and_its_queries_do_not_grow_with_messages(
    personas, viewer, template, ada
):
    def log_queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert viewer.get(LOG).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    add_many(personas.org, 5, template=template, contact=ada)
    few = log_queries()
    add_many(personas.org, 60, template=template, contact=ada)
    many = log_queries()
    assert len(few) == len(many)
    assert not [sql for sql in many if "COUNT(" in sql.upper()]
