"""The engine's steps: waits in the contact's time zone (across a daylight-saving night),
``until`` a weekday, each branch condition and a jump, A/B draws, quiet hours."""

from __future__ import annotations

import datetime
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from automations.models import RunState, RunStep
from automations.services.engine import runs_advance
from automations.services.enrolment import event_handle
from automations.services.waits import wait_until
from automations.triggers import Event
from contacts.services.tags import contact_tags_add
from messaging.models import Direction, Message, Status
from tests.automations.helpers import ab_split, active, contact, ledger, send, template
from tests.messaging.helpers import Clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

TAG = {"type": "tag_added", "tag": "new-lead"}
UTC = datetime.UTC


def at(zone: str, year: int, month: int, day: int, hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        # Days are calendar days: 09:30 stays 09:30 local across the change.
        ("America/New_York", (2026, 3, 7, 9, 30), (2026, 3, 9, 9, 30)),  # clocks forward 8 Mar
        ("Europe/Berlin", (2026, 10, 24, 9, 30), (2026, 10, 26, 9, 30)),  # back 25 Oct
        ("Asia/Tokyo", (2026, 3, 7, 9, 30), (2026, 3, 9, 9, 30)),  # no DST
    ],
)
def test_a_wait_of_days_ends_at_the_same_local_time(zone, start, end):
    begun = at(zone, *start)
    until = wait_until({"duration": {"days": 2}}, begun, zone)
    assert until == at(zone, *end)
    assert until - begun != datetime.timedelta(days=2) or zone == "Asia/Tokyo"


def test_a_wait_of_hours_is_a_length_of_time_across_the_change():
    begun = at("America/New_York", 2026, 3, 8, 1, 0)
    assert wait_until({"duration": {"hours": 3}}, begun, "America/New_York") == begun + (
        datetime.timedelta(hours=3)
    )


def test_until_a_weekday_and_time_in_the_contacts_zone():
    step = {"until": {"time": "09:00", "weekdays": ["mon"]}}
    friday_evening = at("America/Los_Angeles", 2026, 3, 6, 18, 0)  # Fri 6 Mar 2026
    assert wait_until(step, friday_evening, "America/Los_Angeles") == at(
        "America/Los_Angeles", 2026, 3, 9, 9, 0
    )
    monday_early = at("America/Los_Angeles", 2026, 3, 9, 8, 0)
    assert wait_until(step, monday_early, "America/Los_Angeles") == at(
        "America/Los_Angeles", 2026, 3, 9, 9, 0
    )
    any_day = {"until": {"time": "02:30", "weekdays": []}}  # 02:30 does not exist on 8 Mar
    assert wait_until(any_day, at("America/New_York", 2026, 3, 7, 12, 0), "America/New_York") == (
        datetime.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT, just after the gap
    )


def test_an_enrolment_waits_then_sends_in_the_contacts_zone(personas, monkeypatch):
    clock = Clock(monkeypatch, at("Asia/Tokyo", 2026, 4, 1, 10, 0))
    welcome, later = template(personas), template(personas, name="Later", body="Later")
    automation = active(
        personas,
        trigger=TAG,
        steps=[
            send(welcome, "s1", respect_quiet_hours=False),
            {"id": "s2", "type": "wait", "until": {"time": "09:00", "weekdays": []}},
            send(later, "s3", respect_quiet_hours=False),
        ],
    )
    ken = contact(personas, "+81312345678", time_zone="Asia/Tokyo")
    event_handle(
        Event("tag_added", personas.org.pk, (ken.pk,), "ui", "k", {"tag_name": "new-lead"})
    )
    run = automation.runs.get()
    assert (run.state, run.step_id, run.due_at) == (
        RunState.WAITING,
        "s2",
        at("Asia/Tokyo", 2026, 4, 2, 9, 0),
    )
    clock.advance(hours=22, minutes=59)
    assert runs_advance() == 0
    clock.advance(minutes=1)
    assert runs_advance() == 1
    run.refresh_from_db()
    assert run.state == RunState.COMPLETED
    assert ledger(run) == [("s1", "sent"), ("s2", "waited"), ("s3", "sent")]
    assert Message.objects.filter(template=later).count() == 1


def flow(personas, condition, then="s3", otherwise="continue"):
    a, b, c = (template(personas, name=n, body=n) for n in ("A", "B", "C"))
    return active(
        personas,
        trigger=TAG,
        steps=[
            send(a, "s1", respect_quiet_hours=False),
            {"id": "s2", "type": "branch", "if": condition, "then": then, "else": otherwise},
            send(b, "sb", respect_quiet_hours=False),
            send(c, "s3", respect_quiet_hours=False),
        ],
    )


def sent_bodies(contact_id):
    rows = Message.objects.filter(contact_id=contact_id, direction=Direction.OUTBOUND)
    return sorted(m.body.split("\n")[0] for m in rows)


@pytest.mark.parametrize(
    ("condition", "data", "jumped"),
    [
        ({"has_tag": "vip"}, {"tags": ["vip"]}, True),
        ({"has_tag": "vip"}, {}, False),
        ({"lacks_tag": "vip"}, {}, True),
        (
            {"custom_field": {"key": "plan", "equals": "pro"}},
            {"custom_fields": {"plan": "PRO"}},
            True,
        ),
        (
            {"custom_field": {"key": "plan", "equals": "pro"}},
            {"custom_fields": {"plan": "x"}},
            False,
        ),
        ({"replied": False}, {}, True),
        ({"last_status_in": ["pending"]}, {}, True),
        ({"last_status_in": ["delivered"]}, {}, False),
    ],
)
def test_each_branch_condition_and_a_jump(personas, condition, data, jumped):
    flow(personas, condition)
    ada = contact(personas, **data)
    event_handle(
        Event("tag_added", personas.org.pk, (ada.pk,), "ui", "k", {"tag_name": "new-lead"})
    )
    assert sent_bodies(ada.pk) == (["A", "C"] if jumped else ["A", "B", "C"])


def test_a_branch_on_a_reply_since_enrolment_and_end(personas, monkeypatch):
    clock = Clock(monkeypatch, datetime.datetime(2026, 4, 1, 16, 0, tzinfo=UTC))
    a, b = template(personas, name="A", body="A"), template(personas, name="B", body="B")
    automation = active(
        personas,
        trigger=TAG,
        steps=[
            send(a, "s1", respect_quiet_hours=False),
            {"id": "s2", "type": "wait", "duration": {"hours": 1}},
            {
                "id": "s3",
                "type": "branch",
                "if": {"replied": True},
                "then": "end",
                "else": "continue",
            },
            send(b, "s4", respect_quiet_hours=False),
        ],
    )
    ada, bo = contact(personas, "+14155550101"), contact(personas, "+14155550102")
    event_handle(
        Event("tag_added", personas.org.pk, (ada.pk, bo.pk), "ui", "k", {"tag_name": "new-lead"})
    )
    clock.advance(minutes=10)
    Message.objects.create(
        organization=personas.org,
        contact=ada,
        direction=Direction.INBOUND,
        to="+14155550100",
        from_number=ada.phone,
        body="Thanks",
        status=Status.RECEIVED,
    )
    clock.advance(hours=1)
    assert runs_advance() == 2
    assert sent_bodies(ada.pk) == ["A"]
    assert sent_bodies(bo.pk) == ["A", "B"]
    ended = automation.runs.get(contact=ada)
    assert (ended.state, ended.reason) == (RunState.COMPLETED, "ended")


def test_ab_split_draws_by_weight_and_records_the_variant(personas, monkeypatch):
    random.seed(20261202)
    a, b = template(personas, name="A", body="A"), template(personas, name="B", body="B")
    active(
        personas,
        trigger=TAG,
        steps=[ab_split((a, 70), (b, 30), respect_quiet_hours=False)],
    )
    ids = [contact(personas, f"+1415555{n:04d}").pk for n in range(1000)]
    event_handle(
        Event("tag_added", personas.org.pk, tuple(ids), "ui", "k", {"tag_name": "new-lead"})
    )
    variants = Counter(RunStep.objects.values_list("variant", flat=True))
    assert sum(variants.values()) == 1000
    assert 650 <= variants[0] <= 750  # 70% ± 5 points
    by_template = Counter(Message.objects.values_list("template__name", flat=True))
    assert by_template == {"A": variants[0], "B": variants[1]}


def test_quiet_hours_defer_the_message_not_the_flow(personas, monkeypatch):
    Clock(monkeypatch, at("America/Los_Angeles", 2026, 4, 1, 23, 0))
    active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas, time_zone="America/Los_Angeles")
    contact_tags_add(contact=ada, names=["new-lead"], source="ui")
    event_handle(
        Event("tag_added", personas.org.pk, (ada.pk,), "ui", "k", {"tag_name": "new-lead"})
    )
    message = Message.objects.get()
    org = personas.org
    opens = datetime.datetime.combine(
        datetime.date(2026, 4, 2), org.send_window_start, tzinfo=ZoneInfo("America/Los_Angeles")
    )
    assert (message.status, message.send_after) == (Status.PENDING, opens.astimezone(UTC))
