"""Quiet hours: the next allowed instant in the contact's time zone, in local wall time."""

from __future__ import annotations

import datetime

import pytest

from messaging.models import Message, MessageEvent, Status
from messaging.services import rules
from messaging.services.dispatch import messages_enqueue_due
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    Clock,
    expected_form,
    forms,
    make_contact,
    messages_create,
    send_now,
    unlimited,
)

UTC = datetime.UTC
DAY = (datetime.time(8, 0), datetime.time(21, 0))
NIGHT = (datetime.time(22, 0), datetime.time(6, 0))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def allowed(now: datetime.datetime, zone: str, window=DAY) -> datetime.datetime:
    start, end = window
    return rules.next_allowed_instant(now, time_zone=zone, start=start, end=end)


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # US spring-forward night (2026-03-08 02:00 EST → 03:00 EDT): 22:30 EST the evening
        # before → 08:00 EDT = 12:00 UTC (not 13:00, as a fixed -5 offset would give).
        ("America/New_York", utc(2026, 3, 8, 3, 30), utc(2026, 3, 8, 12, 0)),
        # …and at 01:30 EST, before the jump, the same 08:00 EDT.
        ("America/New_York", utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 12, 0)),
        # US fall-back night (2026-11-01 02:00 EDT → 01:00 EST): 22:30 EDT the evening
        # before → 08:00 EST = 13:00 UTC (not 12:00).
        ("America/New_York", utc(2026, 11, 1, 2, 30), utc(2026, 11, 1, 13, 0)),
        # …and at 01:30 EST, the second time that hour comes round.
        ("America/New_York", utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 13, 0)),
        # UK spring-forward (2026-03-29 01:00 GMT → 02:00 BST): 22:30 GMT → 08:00 BST = 07:00 UTC.
        ("Europe/London", utc(2026, 3, 28, 22, 30), utc(2026, 3, 29, 7, 0)),
        # UK fall-back (2026-10-25 02:00 BST → 01:00 GMT): 22:30 BST → 08:00 GMT = 08:00 UTC.
        ("Europe/London", utc(2026, 10, 24, 21, 30), utc(2026, 10, 25, 8, 0)),
        # Tokyo (no daylight saving): 23:00 JST → 08:00 JST the next day = 23:00 UTC.
        ("Asia/Tokyo", utc(2026, 3, 7, 14, 0), utc(2026, 3, 7, 23, 0)),
        # 06:00 JST, before the window opens: 08:00 the same local day.
        ("Asia/Tokyo", utc(2026, 3, 7, 21, 0), utc(2026, 3, 7, 23, 0)),
        # Exactly at the end of the window is outside it.
        ("America/New_York", utc(2026, 6, 2, 1, 0), utc(2026, 6, 2, 12, 0)),
    ],
)
def test_it_moves_a_message_outside_the_window_to_the_next_opening(zone, now, expected):
    assert allowed(now, zone) == expected


@pytest.mark.parametrize(
    ("zone", "now"),
    [
        ("America/New_York", utc(2026, 3, 8, 12, 0)),  # 08:00 EDT: the start is inside
        ("America/New_York", utc(2026, 3, 9, 0, 59)),  # 20:59 EDT
        ("Europe/London", utc(2026, 3, 29, 7, 0)),  # 08:00 BST, the first morning of BST
        ("Asia/Tokyo", utc(2026, 11, 1, 3, 0)),  # 12:00 JST
    ],
)
def test_it_keeps_an_instant_inside_the_window(zone, now):
    assert allowed(now, zone) == now


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # 12:00 EST → 22:00 EST the same day.
        ("America/New_York", utc(2026, 1, 15, 17, 0), utc(2026, 1, 16, 3, 0)),
        # 06:00 exactly is outside → 22:00 the same local day.
        ("America/New_York", utc(2026, 1, 15, 11, 0), utc(2026, 1, 16, 3, 0)),
        # 06:30 EDT on the spring-forward day → 22:00 EDT = 02:00 UTC the next day.
        ("America/New_York", utc(2026, 3, 8, 10, 30), utc(2026, 3, 9, 2, 0)),
        # 21:00 EST on the eve of spring-forward → 22:00 EST = 03:00 UTC.
        ("America/New_York", utc(2026, 3, 8, 2, 0), utc(2026, 3, 8, 3, 0)),
        # 07:00 EST the morning after fall-back → 22:00 EST = 03:00 UTC.
        ("America/New_York", utc(2026, 11, 1, 12, 0), utc(2026, 11, 2, 3, 0)),
        # 12:00 BST → 22:00 BST = 21:00 UTC.
        ("Europe/London", utc(2026, 7, 1, 11, 0), utc(2026, 7, 1, 21, 0)),
        # 12:00 JST → 22:00 JST = 13:00 UTC.
        ("Asia/Tokyo", utc(2026, 7, 1, 3, 0), utc(2026, 7, 1, 13, 0)),
    ],
)
def test_it_handles_a_window_crossing_midnight(zone, now, expected):
    assert allowed(now, zone, NIGHT) == expected


@pytest.mark.parametrize(
    ("zone", "now"),
    [
        ("America/New_York", utc(2026, 1, 16, 4, 0)),  # 23:00 EST
        ("America/New_York", utc(2026, 1, 16, 10, 59)),  # 05:59 EST, after midnight
        ("America/New_York", utc(2026, 3, 8, 7, 0)),  # 03:00 EDT, just after the jump
        ("Europe/London", utc(2026, 10, 25, 1, 30)),  # 01:30 GMT, the repeated hour
        ("Asia/Tokyo", utc(2026, 7, 1, 13, 0)),  # 22:00 JST, the start
    ],
)
def test_it_keeps_an_instant_inside_a_window_crossing_midnight(zone, now):
    assert allowed(now, zone, NIGHT) == now


def test_it_opens_a_window_that_starts_in_a_skipped_hour_just_after_the_gap():
    """02:30 does not exist on 2026-03-08 in New York: the window opens after the jump."""
    window = (datetime.time(2, 30), datetime.time(21, 0))

    opening = allowed(utc(2026, 3, 8, 3, 30), "America/New_York", window)

    assert utc(2026, 3, 8, 7, 0) <= opening <= utc(2026, 3, 8, 7, 30)


def test_it_opens_a_window_that_starts_in_a_repeated_hour_the_first_time():
    """01:30 happens twice on 2026-11-01 in New York (EDT, then EST): the first counts."""
    window = (datetime.time(1, 30), datetime.time(21, 0))

    assert allowed(utc(2026, 11, 1, 2, 30), "America/New_York", window) == utc(2026, 11, 1, 5, 30)


def test_it_reads_an_unknown_time_zone_as_utc():
    assert allowed(utc(2026, 1, 15, 23, 0), "Mars/Olympus_Mons") == utc(2026, 1, 16, 8, 0)


def test_it_has_no_quiet_hours_when_the_window_is_the_whole_day():
    always = (datetime.time(9, 0), datetime.time(9, 0))

    assert allowed(utc(2026, 1, 15, 3, 0), "Asia/Tokyo", always) == utc(2026, 1, 15, 3, 0)


# --- Through the send service ---------------------------------------------------------------

NEW_YORK = "+12125550123"
LONDON = "+442079460123"
TOKYO = "+81312345678"


@pytest.mark.django_db
def test_it_holds_messages_until_morning_in_each_contacts_time_zone(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    """Fall-back night in New York: 02:30 UTC is 22:30 EDT there, 02:30 GMT in London (already
    back on GMT) and 11:30 in Tokyo (inside the window)."""
    unlimited(monkeypatch)
    clock = Clock(monkeypatch, utc(2026, 11, 1, 2, 30))
    connect(personas)
    messages_create(rsps)
    contacts = {
        "new_york": make_contact(personas, NEW_YORK, time_zone="America/New_York"),
        "london": make_contact(personas, LONDON, time_zone="Europe/London"),
        "tokyo": make_contact(personas, TOKYO, time_zone="Asia/Tokyo"),
    }

    sent = {
        name: send_now(
            django_capture_on_commit_callbacks,
            personas,
            contact=contact,
            body="Good morning",
            respect_quiet_hours=True,
        )
        for name, contact in contacts.items()
    }

    assert sent["new_york"].send_after == utc(2026, 11, 1, 13, 0)
    assert sent["london"].send_after == utc(2026, 11, 1, 8, 0)
    assert sent["tokyo"].send_after is None
    assert [m.status for m in sent.values()] == [Status.PENDING, Status.PENDING, Status.QUEUED]
    assert sent["new_york"].enqueued_at is None
    assert list(
        MessageEvent.objects.filter(message=sent["london"]).values_list("status", "params")
    ) == [("pending", {"send_after": "2026-11-01T08:00:00+00:00"})]
    assert forms(rsps) == [expected_form(sent["tokyo"], to=TOKYO, body="Good morning")]

    clock.now = utc(2026, 11, 1, 7, 59, 59)
    assert messages_enqueue_due() == 0
    clock.now = utc(2026, 11, 1, 8, 0)
    assert messages_enqueue_due() == 1
    clock.now = utc(2026, 11, 1, 12, 59, 59)
    assert messages_enqueue_due() == 0
    clock.now = utc(2026, 11, 1, 13, 0)
    assert messages_enqueue_due() == 1

    assert forms(rsps)[1:] == [
        expected_form(sent["london"], to=LONDON, body="Good morning"),
        expected_form(sent["new_york"], to=NEW_YORK, body="Good morning"),
    ]
    london = Message.objects.get(pk=sent["london"].pk)
    assert (london.status, london.submitted_at) == (Status.QUEUED, utc(2026, 11, 1, 8, 0))
    new_york = Message.objects.get(pk=sent["new_york"].pk)
    assert (new_york.status, new_york.submitted_at) == (Status.QUEUED, utc(2026, 11, 1, 13, 0))


@pytest.mark.django_db
def test_it_holds_a_message_over_the_spring_forward_night(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    unlimited(monkeypatch)
    Clock(monkeypatch, utc(2026, 3, 8, 3, 30))  # 22:30 EST on the 7th
    connect(personas)
    contact = make_contact(personas, NEW_YORK, time_zone="America/New_York")

    message = send_now(
        django_capture_on_commit_callbacks,
        personas,
        contact=contact,
        body="Hi",
        respect_quiet_hours=True,
    )

    assert message.status == Status.PENDING
    assert message.send_after == utc(2026, 3, 8, 12, 0)  # 08:00 EDT
    assert forms(rsps) == []


@pytest.mark.django_db
def test_it_uses_the_organizations_window_and_time_zone_for_a_bare_number(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    unlimited(monkeypatch)
    Clock(monkeypatch, utc(2026, 7, 1, 11, 0))  # 13:00 in Paris
    connect(personas)
    personas.org.time_zone = "Europe/Paris"
    personas.org.send_window_start, personas.org.send_window_end = NIGHT
    personas.org.save()

    message = send_now(
        django_capture_on_commit_callbacks,
        personas,
        to=NEW_YORK,
        body="Hi",
        respect_quiet_hours=True,
    )

    assert message.send_after == utc(2026, 7, 1, 20, 0)  # 22:00 CEST
    assert forms(rsps) == []


@pytest.mark.django_db
def test_it_ignores_quiet_hours_unless_asked(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    unlimited(monkeypatch)
    Clock(monkeypatch, utc(2026, 3, 8, 3, 30))  # 22:30 EST
    connect(personas)
    messages_create(rsps)
    contact = make_contact(personas, NEW_YORK, time_zone="America/New_York")

    message = send_now(django_capture_on_commit_callbacks, personas, contact=contact, body="Hi")

    assert (message.status, message.send_after) == (Status.QUEUED, None)
    assert forms(rsps) == [expected_form(message, to=NEW_YORK, body="Hi")]


@pytest.mark.django_db
def test_it_applies_quiet_hours_after_a_requested_delay(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    """A delay that ends at 22:00 EST lands outside the window: 08:00 the next morning."""
    unlimited(monkeypatch)
    Clock(monkeypatch, utc(2026, 1, 15, 17, 0))  # 12:00 EST
    connect(personas)
    contact = make_contact(personas, NEW_YORK, time_zone="America/New_York")

    message = send_now(
        django_capture_on_commit_callbacks,
        personas,
        contact=contact,
        body="Hi",
        send_after=utc(2026, 1, 16, 3, 0),
        respect_quiet_hours=True,
    )

    assert message.send_after == utc(2026, 1, 16, 13, 0)
    assert forms(rsps) == []
