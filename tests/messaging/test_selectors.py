"""The message log's reads: filters, keyset pages with opaque cursors, and counts per status."""

from __future__ import annotations

import base64
import datetime
import uuid

import pytest

from contacts.services.contacts import contact_create
from messaging.models import Direction, Message, Status
from messaging.selectors import (
    MessageFilter,
    MessagePage,
    Position,
    message_status_counts,
    messages_filtered,
    messages_page,
)
from templates_sms.services import template_create
from tenants.models import Organization

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


def message_at(
    organization: Organization, at: datetime.datetime, body: str = "Hi", **fields
) -> Message:
    message = Message.objects.create(
        organization=organization, to="+14155550123", body=body, **fields
    )
    Message.objects.filter(pk=message.pk).update(created_at=at)
    message.refresh_from_db()
    return message


def numbered(organization: Organization, count: int) -> None:
    """Messages "1" … "count", one minute apart, "count" the newest."""
    for n in range(1, count + 1):
        message_at(organization, T0 + datetime.timedelta(minutes=n), body=str(n))


def bodies(page: MessagePage) -> list[str]:
    return [message.body for message in page.messages]


def tie(organization: Organization) -> None:
    """Gives "2" … "5" one created_at, so pages 7, 6, tie | three tied | 1 split inside the tie."""
    Message.objects.filter(organization=organization, body__in=["2", "3", "4", "5"]).update(
        created_at=T0 + datetime.timedelta(minutes=3)
    )


def page_after(organization: Organization, cursor: str, *, size: int = 3) -> MessagePage:
    return messages_page(
        Message.objects.filter(organization=organization), older=Position.decode(cursor), size=size
    )


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# --- Position ---------------------------------------------------------------------------------


def test_a_position_round_trips_through_its_cursor():
    position = Position(
        datetime.datetime(2026, 3, 10, 12, 0, 0, 123456, tzinfo=datetime.UTC), uuid.uuid4()
    )

    assert Position.decode(position.encode()) == position


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        "é",
        b64("2026-03-10T12:00:00+00:00"),
        b64(f"2026-03-10T12:00:00|{uuid.uuid4()}"),
        b64("2026-03-10T12:00:00+00:00|not-a-uuid"),
        b64(f"yesterday|{uuid.uuid4()}"),
        b64(f"2026-03-10T12:00:00+00:00|{uuid.uuid4()}|extra"),
    ],
    ids=["empty", "garbage", "non-ascii", "no-bar", "naive", "bad-uuid", "bad-date", "two-bars"],
)
def test_a_bad_cursor_decodes_to_none(cursor):
    assert Position.decode(cursor) is None


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"], ids=["min", "max"]
)
def test_a_cursor_whose_time_is_outside_utcs_range_decodes_to_none(moment):
    """No stored row has such a position; unrejected, it crashes the page query on SQLite."""
    assert Position.decode(b64(f"{moment}|{uuid.uuid4()}")) is None


# --- Keyset pages -----------------------------------------------------------------------------


def test_pages_follow_older_cursors_to_the_end(personas):
    numbered(personas.org, 7)
    messages = Message.objects.filter(organization=personas.org)

    first = messages_page(messages, size=3)
    second = page_after(personas.org, first.older)
    last = page_after(personas.org, second.older)

    assert [bodies(first), bodies(second), bodies(last)] == [
        ["7", "6", "5"],
        ["4", "3", "2"],
        ["1"],
    ]
    assert first.newer == ""
    assert second.older
    assert second.newer
    assert last.older == ""
    assert last.newer


def test_a_newer_cursor_leads_back_to_exactly_the_first_page(personas):
    numbered(personas.org, 7)
    messages = Message.objects.filter(organization=personas.org)
    first = messages_page(messages, size=3)
    second = page_after(personas.org, first.older)

    back = messages_page(messages, newer=Position.decode(second.newer), size=3)

    assert bodies(back) == bodies(first)
    assert back.newer == ""
    assert back.older == first.older


def test_rows_sharing_a_timestamp_are_neither_repeated_nor_skipped(personas):
    numbered(personas.org, 7)
    tie(personas.org)
    messages = Message.objects.filter(organization=personas.org)

    seen: list[str] = []
    page = messages_page(messages, size=3)
    seen += bodies(page)
    while page.older:
        page = page_after(personas.org, page.older)
        seen += bodies(page)

    assert len(seen) == 7
    assert sorted(seen) == [str(n) for n in range(1, 8)]
    assert seen[:2] == ["7", "6"]
    assert seen[-1] == "1"


def test_a_newer_cursor_inside_a_tie_leads_back_without_repeats(personas):
    numbered(personas.org, 7)
    tie(personas.org)
    messages = Message.objects.filter(organization=personas.org)
    first = messages_page(messages, size=3)
    second = page_after(personas.org, first.older)

    back = messages_page(messages, newer=Position.decode(second.newer), size=3)

    assert bodies(back) == bodies(first)


def test_new_messages_do_not_shift_the_next_page(personas):
    numbered(personas.org, 7)
    first = messages_page(Message.objects.filter(organization=personas.org), size=3)
    before = bodies(page_after(personas.org, first.older))

    for n in range(5):
        message_at(personas.org, T0 + datetime.timedelta(hours=1, minutes=n), body=f"new {n}")

    assert bodies(page_after(personas.org, first.older)) == before == ["4", "3", "2"]


# --- Filters ----------------------------------------------------------------------------------


def ids(messages) -> set[int]:
    return set(messages.values_list("pk", flat=True))


def test_no_filter_returns_only_the_organizations_messages(personas):
    ours = message_at(personas.org, T0)
    message_at(personas.other_org, T0)

    assert ids(messages_filtered(personas.org, MessageFilter())) == {ours.pk}


def test_the_status_filter(personas):
    delivered = message_at(personas.org, T0, status=Status.DELIVERED)
    message_at(personas.org, T0, status=Status.FAILED)
    message_at(personas.other_org, T0, status=Status.DELIVERED)

    found = messages_filtered(personas.org, MessageFilter(status=Status.DELIVERED))

    assert ids(found) == {delivered.pk}


def test_the_direction_filter(personas):
    inbound = message_at(personas.org, T0, direction=Direction.INBOUND)
    message_at(personas.org, T0, direction=Direction.OUTBOUND)
    message_at(personas.other_org, T0, direction=Direction.INBOUND)

    found = messages_filtered(personas.org, MessageFilter(direction=Direction.INBOUND))

    assert ids(found) == {inbound.pk}


def test_the_template_filter(personas):
    template = template_create(organization=personas.org, name="Welcome", body="Hi").template
    other = template_create(organization=personas.org, name="Other", body="Yo").template
    theirs = template_create(organization=personas.other_org, name="Welcome", body="Hi").template
    with_template = message_at(personas.org, T0, template=template)
    message_at(personas.org, T0, template=other)
    message_at(personas.org, T0)
    message_at(personas.other_org, T0, template=theirs)

    assert ids(messages_filtered(personas.org, MessageFilter(template=template))) == {
        with_template.pk
    }
    assert ids(messages_filtered(personas.org, MessageFilter(template=theirs))) == set()


def test_the_contact_filter(personas):
    contact = contact_create(organization=personas.org, source="ui", phone="+1 415 555 0123")
    other = contact_create(organization=personas.org, source="ui", phone="+1 415 555 0124")
    theirs = contact_create(organization=personas.other_org, source="ui", phone="+1 415 555 0123")
    with_contact = message_at(personas.org, T0, contact=contact)
    message_at(personas.org, T0, contact=other)
    message_at(personas.other_org, T0, contact=theirs)

    assert ids(messages_filtered(personas.org, MessageFilter(contact=contact))) == {with_contact.pk}
    assert ids(messages_filtered(personas.org, MessageFilter(contact=theirs))) == set()


def test_the_attention_filter(personas):
    flagged = message_at(personas.org, T0, needs_attention=True)
    message_at(personas.org, T0)
    message_at(personas.other_org, T0, needs_attention=True)

    assert ids(messages_filtered(personas.org, MessageFilter(attention=True))) == {flagged.pk}


def test_since_and_until_are_whole_days_in_the_organizations_time_zone(personas):
    personas.org.time_zone = "Asia/Tokyo"  # UTC+9: 10 March in Tokyo is 9 March 15:00 UTC on
    personas.org.save(update_fields=["time_zone"])

    def utc(day: int, hour: int, minute: int = 0) -> datetime.datetime:
        return datetime.datetime(2026, 3, day, hour, minute, tzinfo=datetime.UTC)

    message_at(personas.org, utc(9, 14, 59), body="9 March, Tokyo")
    message_at(personas.org, utc(9, 15), body="10 March starts, Tokyo")
    message_at(personas.org, utc(10, 14, 59), body="10 March ends, Tokyo")
    message_at(personas.org, utc(10, 15), body="11 March, Tokyo")
    message_at(personas.other_org, utc(10, 0), body="theirs")
    day = datetime.date(2026, 3, 10)

    def found(filters: MessageFilter) -> set[str]:
        return set(messages_filtered(personas.org, filters).values_list("body", flat=True))

    assert found(MessageFilter(since=day, until=day)) == {
        "10 March starts, Tokyo",
        "10 March ends, Tokyo",
    }
    assert found(MessageFilter(since=day)) == {
        "10 March starts, Tokyo",
        "10 March ends, Tokyo",
        "11 March, Tokyo",
    }
    assert found(MessageFilter(until=day)) == {
        "9 March, Tokyo",
        "10 March starts, Tokyo",
        "10 March ends, Tokyo",
    }


def test_until_the_last_representable_day_keeps_every_message(personas):
    ours = message_at(personas.org, T0)
    message_at(personas.other_org, T0)

    found = messages_filtered(personas.org, MessageFilter(until=datetime.date.max))

    assert ids(found) == {ours.pk}


def test_since_the_first_representable_day_keeps_every_message(personas):
    personas.org.time_zone = "Asia/Tokyo"  # its first midnight is before 1 January 1, UTC
    personas.org.save(update_fields=["time_zone"])
    ours = message_at(personas.org, T0)
    message_at(personas.other_org, T0)

    found = messages_filtered(personas.org, MessageFilter(since=datetime.date.min))

    assert ids(found) == {ours.pk}


# --- Counts per status ------------------------------------------------------------------------


def test_status_counts_ignore_the_status_filter_but_apply_the_others(personas):
    for status, count in [(Status.DELIVERED, 3), (Status.FAILED, 1), (Status.SENT, 2)]:
        for _ in range(count):
            message_at(personas.org, T0, status=status)
    message_at(personas.org, T0, status=Status.FAILED, direction=Direction.INBOUND)
    message_at(personas.org, T0, status=Status.RECEIVED, direction=Direction.INBOUND)
    for _ in range(5):
        message_at(personas.other_org, T0, status=Status.FAILED)

    counts = message_status_counts(
        personas.org, MessageFilter(status=Status.FAILED, direction=Direction.OUTBOUND)
    )

    assert counts == [(Status.DELIVERED, 3), (Status.SENT, 2), (Status.FAILED, 1)]
