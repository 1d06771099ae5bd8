"""The message rollup equals a recount of the messages after any sequence of writes: set-wise
inserts, the status callback's statement, ORM updates of many rows, a template deleted, SIDs
given, messages deleted (the triggers of messaging/rollup_sql.py, on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime
import io
import uuid
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.models import Message, MessageRollup, Status
from messaging.rollup_sql import SHARDS, rollup_rebuild
from messaging.services.callback_sql import StatusMove, callback_write
from templates_sms.models import SmsTemplate
from tenants.sources import Source

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 7, 22, 0, tzinfo=datetime.UTC)
STATUSES = [s.value for s in Status]
AUTOMATION = "5f0c2d9e-6b7a-4c1e-9d3f-2a8b7c6d5e4f"

Key = tuple[object, ...]


def recount() -> Counter[Key]:
    """The rollup as it should be, counted in Python from the messages."""
    counted: Counter[Key] = Counter()
    for m in Message.objects.all():
        key = (
            m.organization_id,
            m.created_at.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0),
            m.direction,
            m.source_ref if m.source == Source.AUTOMATION else "",
            m.template_id or 0,
            m.status,
            m.error_code or 0,
            m.suppressed_reason,
            m.sid is not None,
            m.pk % SHARDS,
        )
        counted[(*key, "messages")] += 1
        counted[(*key, "segments")] += m.segments
    return +counted  # zeros dropped


def rolled() -> Counter[Key]:
    counted: Counter[Key] = Counter()
    for r in MessageRollup.objects.all():
        key = (
            r.organization_id,
            r.hour.astimezone(datetime.UTC),
            r.direction,
            r.automation,
            r.template_id,
            r.status,
            r.error_code,
            r.suppressed_reason,
            r.handed,
            r.shard,
        )
        counted[(*key, "messages")] += r.messages
        counted[(*key, "segments")] += r.segments
    return +counted


def make_messages(organization, template, specs) -> list[Message]:
    """One INSERT for all of them (a statement-level trigger sees them together)."""
    messages = Message.objects.bulk_create(
        Message(
            organization=organization,
            to=f"+1415555{n:04d}",
            body="Hi",
            template=template if use_template else None,
            status=status,
            segments=segments,
            source=Source.AUTOMATION if automated else Source.API,
            source_ref=AUTOMATION if automated else "api-key:abc",
        )
        for n, (status, segments, use_template, automated) in enumerate(specs)
    )
    # created_at is auto_now_add: spread them over hours (and the US spring-forward night).
    for n, message in enumerate(messages):
        Message.objects.filter(pk=message.pk).update(
            created_at=T0 + datetime.timedelta(minutes=50 * n)
        )
    return messages


message_specs = st.lists(
    st.tuples(
        st.sampled_from(STATUSES),
        st.integers(min_value=0, max_value=4),
        st.booleans(),
        st.booleans(),
    ),
    min_size=1,
    max_size=8,
)
operations = st.lists(
    st.tuples(
        st.sampled_from(["callback", "update", "sid", "delete", "template_deleted"]),
        st.sampled_from(STATUSES),
        st.integers(min_value=0, max_value=7),
        st.sampled_from([None, 30003, 30007]),
    ),
    max_size=12,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=message_specs, steps=operations)
def test_the_rollup_equals_a_recount_after_any_writes(personas, specs, steps):
    template = SmsTemplate.objects.create(
        organization=personas.org, name=uuid.uuid4().hex, body="Hi"
    )
    messages = make_messages(personas.org, template, specs)
    for action, status, index, code in steps:
        ids = list(Message.objects.values_list("pk", flat=True))
        if not ids:
            break
        pk = ids[index % len(ids)]
        if action == "callback":
            sid = Message.objects.get(pk=pk).sid or f"SM{pk:032x}"
            callback_write(
                message_id=pk,
                move=StatusMove.to(status, sid=sid, error_code=code),
                params={"MessageStatus": status},
                callback_key=f"{sid}:{status}:{code}",
            )
        elif action == "update":  # many rows in one statement
            Message.objects.filter(pk__in=ids[: index + 1]).update(status=status, error_code=code)
        elif action == "sid":
            Message.objects.filter(pk=pk, sid__isnull=True).update(sid=f"SM{pk:032x}")
        elif action == "delete":
            Message.objects.filter(pk=pk).delete()
        else:
            SmsTemplate.objects.filter(pk=template.pk).delete()  # messages' template: NULL
    assert rolled() == recount()
    assert messages  # the example made some
    # And the rebuild comes to the same.
    rollup_rebuild(personas.org.pk)
    assert rolled() == recount()


def test_an_update_that_changes_no_key_writes_nothing(personas):
    (message,) = make_messages(personas.org, None, [(Status.QUEUED, 1, False, False)])
    before = list(MessageRollup.objects.values_list("pk", "messages"))
    Message.objects.filter(pk=message.pk).update(body="Changed", needs_attention=True)
    assert list(MessageRollup.objects.values_list("pk", "messages")) == before


def test_hours_are_utc_hours(personas):
    (message,) = make_messages(personas.org, None, [(Status.DELIVERED, 2, False, False)])
    Message.objects.filter(pk=message.pk).update(
        created_at=datetime.datetime(2026, 11, 1, 5, 59, 59, tzinfo=datetime.UTC)
    )
    (row,) = MessageRollup.objects.filter(messages__gt=0)
    assert row.hour == datetime.datetime(2026, 11, 1, 5, 0, tzinfo=datetime.UTC)
    assert (row.status, row.messages, row.segments) == ("delivered", 1, 2)


def test_the_rebuild_command_recounts_one_organization(personas):
    make_messages(personas.org, None, [(Status.DELIVERED, 1, False, False)] * 3)
    make_messages(personas.other_org, None, [(Status.FAILED, 1, False, False)])
    MessageRollup.objects.update(messages=99)  # a manual change gone wrong
    out = io.StringIO()
    call_command("rollups_rebuild", organization=str(personas.org.public_id), stdout=out)
    assert "Rollup rebuilt" in out.getvalue()
    ours = MessageRollup.objects.filter(organization=personas.org, messages__gt=0)
    assert sum(r.messages for r in ours) == 3
    # The other organization's rows were left as they were.
    assert set(
        MessageRollup.objects.filter(organization=personas.other_org).values_list(
            "messages", flat=True
        )
    ) == {99}


def test_the_rebuild_command_refuses_an_unknown_organization():
    with pytest.raises(CommandError, match="No organization has the id 'nope'"):
        call_command("rollups_rebuild", organization="nope")
