"""The message log's keyset pages, its status words, and the counts per status (a fragment of
its own, /messages/counts/)."""

from __future__ import annotations

import base64
import datetime
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.models import Direction, Status, SuppressedReason
from messaging.statuses import STATUS_WORDS, explain
from tests.factories import page_text
from tests.messaging.log.helpers import (
    COUNTS,
    LOG,
    NOON,
    add,
    add_many,
    bodies,
    counts,
    link,
    numbered,
)

pytestmark = pytest.mark.django_db


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
