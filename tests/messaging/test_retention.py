"""Retention: messages older than their organization's retention period are deleted, with
their events, in batches, by ``messages_delete_expired``, its command and its nightly task."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from celery.schedules import crontab
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.celery import app as celery_app
from messaging.models import DedupeKey, Message, MessageEvent, Status
from messaging.services.retention import messages_delete_expired
from messaging.tasks import delete_expired_messages
from tenants.models import Organization

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)


def message_aged(
    organization: Organization, days: float, *, now: datetime.datetime = NOW
) -> Message:
    """A message created ``days`` before ``now``, with one event."""
    message = Message.objects.create(
        organization=organization, to="+14155550123", body="Hi", status=Status.DELIVERED
    )
    Message.objects.filter(pk=message.pk).update(created_at=now - datetime.timedelta(days=days))
    MessageEvent.objects.create(message=message, status="created")
    return message


def exists(message: Message) -> bool:
    return Message.objects.filter(pk=message.pk).exists()


def message_deletes(queries: CaptureQueriesContext) -> list[str]:
    """The DELETE statements on the message table (not its events')."""
    table = connection.ops.quote_name(Message._meta.db_table)
    statements = [q["sql"] for q in queries.captured_queries]
    return [sql for sql in statements if sql.startswith("DELETE") and sql.split()[2] == table]


def test_it_deletes_messages_older_than_the_retention_with_their_events(personas):
    assert personas.org.message_retention_days == 400
    old = message_aged(personas.org, 401)
    young = message_aged(personas.org, 399)

    count = messages_delete_expired(now=NOW)

    assert count == 1
    assert not exists(old)
    assert not MessageEvent.objects.filter(message_id=old.pk).exists()
    assert exists(young)
    assert MessageEvent.objects.filter(message=young).count() == 1


def test_each_organization_uses_its_own_retention(personas):
    personas.other_org.message_retention_days = 30
    personas.other_org.save(update_fields=["message_retention_days"])
    theirs = message_aged(personas.other_org, 40)
    ours = message_aged(personas.org, 40)

    assert messages_delete_expired(now=NOW) == 1

    assert not exists(theirs)
    assert exists(ours)


def test_it_deletes_in_batches_of_the_given_size(personas):
    for _ in range(10):
        message_aged(personas.org, 500)

    with CaptureQueriesContext(connection) as queries:
        count = messages_delete_expired(batch_size=3, now=NOW)

    assert count == 10
    assert not Message.objects.exists()
    assert not MessageEvent.objects.exists()
    assert len(message_deletes(queries)) >= 4  # 3 + 3 + 3 + 1


def test_a_dedupe_key_outlives_its_deleted_message(personas):
    old = message_aged(personas.org, 401)
    DedupeKey.objects.create(organization=personas.org, key="welcome", message=old)

    messages_delete_expired(now=NOW)

    key = DedupeKey.objects.get(organization=personas.org, key="welcome")
    assert key.message is None


def test_nothing_expired_deletes_nothing(personas):
    message_aged(personas.org, 10)
    message_aged(personas.other_org, 399)

    assert messages_delete_expired(now=NOW) == 0
    assert Message.objects.count() == 2
    assert MessageEvent.objects.count() == 2


def test_the_command_deletes_and_reports_the_count(personas):
    now = timezone.now()
    old = [message_aged(personas.org, 401, now=now) for _ in range(2)]
    young = message_aged(personas.org, 1, now=now)
    out = StringIO()

    call_command("delete_expired_messages", "--batch-size", "1", stdout=out)

    assert out.getvalue().strip() == "2 expired message(s) deleted."
    assert not any(exists(message) for message in old)
    assert exists(young)


def test_the_command_refuses_a_batch_size_below_one(personas):
    old = message_aged(personas.org, 401, now=timezone.now())

    with pytest.raises(CommandError, match=r"^--batch-size must be at least 1\.$"):
        call_command("delete_expired_messages", "--batch-size", "0", stdout=StringIO())

    assert exists(old)


def test_beat_runs_the_task_once_a_day():
    entry = celery_app.conf.beat_schedule["delete-expired-messages"]

    assert entry["task"] == "messaging.tasks.delete_expired_messages"
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    # celery-types does not declare crontab's expanded fields, hence getattr.
    sizes = {
        name: len(getattr(schedule, name))
        for name in ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")
    }
    assert sizes == {
        "minute": 1,
        "hour": 1,
        "day_of_week": 7,
        "day_of_month": 31,
        "month_of_year": 12,
    }


def test_the_task_deletes_and_returns_the_count(personas):
    now = timezone.now()
    old = message_aged(personas.org, 401, now=now)
    young = message_aged(personas.org, 1, now=now)

    assert delete_expired_messages.delay().get() == 1

    assert not exists(old)
    assert exists(young)
