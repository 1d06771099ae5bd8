"""``message_send_many`` writes, for each contact, the row and first event ``message_send``
writes for that contact alone: the same text, segments, status, reason, due time and enqueue
stamp, whatever the text (a template with merge fields, one without, a typed body), quiet
hours or a delay. Only the ids and the creation stamps differ."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection as db

from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from messaging.models import Message, MessageEvent, Status, SuppressedReason
from messaging.services.sending import message_send, message_send_many
from templates_sms.segments import count_segments
from templates_sms.services import template_create
from tests.messaging.helpers import make_contact
from tests.messaging.send_helpers import SID, T0

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots", "connection")]

DIFFERENT = {"id", "public_id", "source_ref", "created_at", "updated_at"}
TEXTS = {
    "merge fields": 'Hi {{ first_name|default:"there" }}, {{ custom.plan|default:"basic" }} plan',
    "no merge fields": "Spring sale at {{ organization.name }} today",
    "typed": None,
}


def audience(personas) -> list:
    """Contacts in three time zones (at T0, 12:00 UTC: inside the window in UTC and New York,
    21:00 in Tokyo, outside it), one opted out, one whose number Twilio rejected, one already
    texted today (a cap of 1), two with the same first name."""
    contacts = [
        make_contact(personas, "+14155550101", first_name="Ada", custom_fields={"plan": "gold"}),
        make_contact(personas, "+14155550102", first_name="Ada", time_zone="America/New_York"),
        make_contact(personas, "+14155550103", time_zone="Asia/Tokyo"),
        make_contact(personas, "+14155550104", first_name="Bo"),
        make_contact(personas, "+14155550105", first_name="Cy", time_zone="Asia/Tokyo"),
        make_contact(personas, "+14155550106", first_name="Di"),
    ]
    consent_opt_out(organization=personas.org, phone=contacts[3].phone, source=ConsentSource.USER)
    earlier = {"organization": personas.org, "body": "Earlier", "segments": 1}
    Message.objects.create(**earlier, to=contacts[4].phone, status=Status.FAILED, error_code=21211)
    Message.objects.create(
        **earlier, to=contacts[5].phone, status=Status.DELIVERED, sid=SID, submitted_at=T0
    )
    personas.org.frequency_cap = 1
    personas.org.save(update_fields=["frequency_cap"])
    return contacts


def row(message: Message) -> dict:
    values = {
        f.attname: getattr(message, f.attname)
        for f in Message._meta.concrete_fields
        if f.attname not in DIFFERENT
    }
    values["enqueued_at"] = values["enqueued_at"] is not None
    events = MessageEvent.objects.filter(message=message).values_list("status", "params")
    return {**values, "events": list(events)}


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(
    ("quiet", "delay"),
    [(False, None), (True, None), (False, 2), (True, 2), (True, -1)],
    ids=["now", "quiet hours", "in 2 h", "quiet hours and 2 h", "a time already past"],
)
@pytest.mark.parametrize("commit_each_chunk", [False, True], ids=["one transaction", "chunks"])
@pytest.mark.django_db(transaction=True)
def test_each_row_is_the_row_message_send_writes(
    personas, clock, monkeypatch, text, quiet, delay, commit_each_chunk
):
    monkeypatch.setattr("messaging.services.sending.BATCH", 4)  # two chunks
    monkeypatch.setattr("messaging.services.sending.send_batches", lambda ids, total=None: None)
    contacts = audience(personas)
    body = TEXTS[text]
    content: dict[str, Any] = (
        {"body": "Spring sale 🌸 reply STOP to opt out"}
        if body is None
        else {"template": template_create(organization=personas.org, name=text, body=body).template}
    )
    timing: dict[str, Any] = {
        "respect_quiet_hours": quiet,
        "send_after": None if delay is None else T0 + datetime.timedelta(hours=delay),
    }
    alone = [
        message_send(organization=personas.org, contact=c, source="automation", **content, **timing)
        for c in contacts
    ]

    result = message_send_many(
        organization=personas.org,
        contacts=contacts,
        source="automation",
        source_ref="many",
        commit_each_chunk=commit_each_chunk,
        **content,
        **timing,
    )

    together = list(Message.objects.filter(pk__in=result.message_ids).order_by("pk"))
    assert [m.pk for m in together] == result.message_ids
    alone = list(Message.objects.filter(pk__in=[m.pk for m in alone]).order_by("pk"))
    assert [row(m) for m in together] == [row(m) for m in alone]
    reasons = [m.suppressed_reason for m in together]
    assert reasons == ["", "", "", "opted_out", "invalid_number", "frequency_cap"]
    assert result.statuses == {"pending": 3, "suppressed": 3}
    assert result.suppressed == {r: 1 for r in reasons if r}


def test_without_returning_rows_the_ids_are_read_back(personas, monkeypatch):
    """Where the database cannot return the inserted rows, their ids are read back by public
    id, still in the contacts' order."""
    monkeypatch.setattr(type(db.features), "can_return_rows_from_bulk_insert", False)
    contacts = [make_contact(personas, f"+1415555020{i}") for i in range(5)]

    result = message_send_many(
        organization=personas.org, contacts=contacts[::-1], body="Hi", source="api"
    )

    rows = Message.objects.in_bulk(result.message_ids)
    assert [rows[pk].to for pk in result.message_ids] == [c.phone for c in contacts[::-1]]
    assert [rows[pk].contact_id for pk in result.message_ids] == [c.pk for c in contacts[::-1]]


def test_a_text_too_long_for_one_contact_is_suppressed_for_that_contact_only(personas):
    template = template_create(
        organization=personas.org, name="Long", body="{{ custom.a }}{{ custom.b }}"
    ).template
    short = make_contact(personas, "+14155550301", custom_fields={"a": "Hello"})
    long = make_contact(personas, "+14155550302", custom_fields={"a": "✓" * 1000, "b": "x" * 600})

    result = message_send_many(
        organization=personas.org, contacts=[short, long], template=template, source="api"
    )

    first, second = Message.objects.filter(pk__in=result.message_ids).order_by("pk")
    assert (first.status, first.body, first.segments, first.encoding) == (
        Status.PENDING,
        "Hello\nReply STOP to opt out",
        1,
        "GSM-7",
    )
    text = "✓" * 1000 + "x" * 600 + "\nReply STOP to opt out"
    assert (second.status, second.suppressed_reason, second.body) == (
        Status.SUPPRESSED,
        SuppressedReason.TOO_LONG,
        text,
    )
    assert (second.segments, second.encoding) == (count_segments(text).segments, "UCS-2")
