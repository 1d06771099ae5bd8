"""The send service: creating rows under the rules (step 1) and enqueuing them (step 2)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection as db
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from messaging.models import Message, MessageEvent, Status, SuppressedReason
from messaging.services.sending import message_send, message_send_many
from messaging.services.submit import messages_enqueue_due
from templates_sms.services import template_create
from tenants.errors import ApplicationError
from tests.messaging.helpers import (
    Clock,
    connect_sender,
    expected_form,
    forms,
    make_contact,
    messages_create,
    send_now,
    unlimited,
)

pytestmark = pytest.mark.django_db

ALICE = "+14155550123"


@pytest.fixture(autouse=True)
def _slots(monkeypatch):
    unlimited(monkeypatch)


def nothing_written() -> bool:
    return not Message.objects.exists() and not MessageEvent.objects.exists()


# --- Bad input: an error, never a row -------------------------------------------------------


@pytest.mark.parametrize("to", ["555", "not a number", "+1 415 555 01", "+1 415 555 0123 4567"])
def test_it_refuses_a_malformed_number(personas, rsps, django_capture_on_commit_callbacks, to):
    connect_sender(personas)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ApplicationError) as caught,
    ):
        message_send(organization=personas.org, to=to, body="Hi", source="test")

    assert list(caught.value.fields) == ["to"]
    assert callbacks == []
    assert nothing_written()
    assert forms(rsps) == []


@pytest.mark.parametrize("body", ["", "   \n\t "])
def test_it_refuses_an_empty_body(personas, rsps, django_capture_on_commit_callbacks, body):
    connect_sender(personas)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ApplicationError) as caught,
    ):
        message_send(organization=personas.org, to=ALICE, body=body, source="test")

    assert caught.value.fields == {"body": ["Write a message or choose a template."]}
    assert callbacks == []
    assert nothing_written()


def test_it_refuses_a_message_with_no_recipient(personas):
    with pytest.raises(ApplicationError) as caught:
        message_send(organization=personas.org, body="Hi", source="test")

    assert list(caught.value.fields) == ["to"]
    assert nothing_written()


def test_it_refuses_a_contact_or_template_of_another_organization(personas):
    connect_sender(personas)
    theirs = Contact.objects.create(organization=personas.other_org, phone=ALICE, time_zone="UTC")
    their_template = template_create(organization=personas.other_org, name="T", body="Hi").template

    with pytest.raises(ApplicationError) as contact_error:
        message_send(organization=personas.org, contact=theirs, body="Hi", source="test")
    with pytest.raises(ApplicationError) as template_error:
        message_send(organization=personas.org, to=ALICE, template=their_template, source="test")

    assert list(contact_error.value.fields) == ["contact"]
    assert list(template_error.value.fields) == ["template"]
    assert nothing_written()


# --- Due now: enqueued on commit, then sent -------------------------------------------------


def test_it_enqueues_a_due_message_on_commit_and_sends_it(
    personas, rsps, django_capture_on_commit_callbacks
):
    connection = connect_sender(personas)
    messages_create(rsps, sid="SM" + "1" * 32)
    alice = make_contact(personas, ALICE, first_name="Alice")

    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            organization=personas.org, contact=alice, body="Hello Alice", source="ui"
        )
        # Inside the transaction: the row is pending and nothing went to Twilio yet.
        assert message.status == Status.PENDING
        assert forms(rsps) == []

    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hello Alice")]
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.sid == "SM" + "1" * 32
    assert message.from_number == "+14155550100"
    assert message.connection_id == connection.pk
    assert message.attempts == 1
    assert message.submitted_at is not None
    assert message.enqueued_at is not None
    assert message.error_code is None
    assert (message.source, message.segments, message.encoding) == ("ui", 1, "GSM-7")
    assert list(MessageEvent.objects.filter(message=message).values_list("status", "params")) == [
        ("pending", {}),
        ("queued", {"sid": "SM" + "1" * 32}),
    ]


def test_it_sends_nothing_when_the_transaction_rolls_back(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)

    def create_then_fail() -> None:
        with transaction.atomic():
            message_send(organization=personas.org, to=ALICE, body="Hi", source="test")
            raise RuntimeError("the caller failed after creating the message")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        create_then_fail()

    assert callbacks == []
    assert nothing_written()
    assert forms(rsps) == []


def test_it_sends_a_rendered_template_with_its_media(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    messages_create(rsps)
    alice = make_contact(personas, ALICE, first_name="Alice")
    template = template_create(
        organization=personas.org,
        name="Promo",
        body="Hi {{ first_name }}, 20% off today at {{ organization.name }}.",
        media_url="https://cdn.example.com/promo.jpg",
    ).template

    message = send_now(
        django_capture_on_commit_callbacks,
        personas,
        contact=alice,
        template=template,
        source_ref="automation-7",
    )

    text = "Hi Alice, 20% off today at Acme A.\nReply STOP to opt out"
    assert forms(rsps) == [
        expected_form(message, to=ALICE, body=text, media_url="https://cdn.example.com/promo.jpg")
    ]
    assert (message.body, message.template_id, message.source_ref) == (
        text,
        template.pk,
        "automation-7",
    )


def test_it_normalizes_a_number_written_any_usual_way(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    messages_create(rsps)

    message = send_now(
        django_capture_on_commit_callbacks,
        personas,
        to="(415) 555-0123",
        body="Hi",
        media_url="https://cdn.example.com/a.png",
    )

    assert message.to == ALICE
    assert forms(rsps) == [
        expected_form(message, to=ALICE, body="Hi", media_url="https://cdn.example.com/a.png")
    ]


# --- Due later: left to the beat task --------------------------------------------------------


def test_it_sends_a_future_message_only_when_enqueue_due_runs_after_its_time(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    clock = Clock(monkeypatch, datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC))
    connect_sender(personas)
    messages_create(rsps)
    due = clock.now + datetime.timedelta(hours=2)

    message = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Later", send_after=due
    )

    assert (message.status, message.send_after, message.enqueued_at) == (Status.PENDING, due, None)
    assert forms(rsps) == []

    clock.advance(hours=1, minutes=59, seconds=59)
    assert messages_enqueue_due() == 0
    assert forms(rsps) == []

    clock.advance(seconds=1)
    assert messages_enqueue_due() == 1

    assert forms(rsps) == [expected_form(message, to=ALICE, body="Later")]
    message.refresh_from_db()
    assert (message.status, message.enqueued_at, message.submitted_at) == (
        Status.QUEUED,
        due,
        due,
    )
    assert messages_enqueue_due() == 0  # sent once, never again
    assert len(forms(rsps)) == 1


def test_it_sends_a_send_after_in_the_past_at_once(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    messages_create(rsps)
    past = timezone.now() - datetime.timedelta(minutes=5)

    message = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", send_after=past
    )

    assert message.status == Status.QUEUED
    assert len(forms(rsps)) == 1


# --- message_send_many ----------------------------------------------------------------------


def numbers(start: int, n: int) -> list[str]:
    return [f"+1415555{i:04d}" for i in range(start, start + n)]


def build_audience(personas, rsps, commit, start: int, n: int) -> dict[str, list[Contact]]:
    """n contacts: every fifth opted out, every fifth (offset by one) already texted today
    (the cap is 1), the rest normal."""
    contacts = [make_contact(personas, phone) for phone in numbers(start, n)]
    groups: dict[str, list[Contact]] = {"opted_out": [], "capped": [], "normal": []}
    for i, contact in enumerate(contacts):
        groups["opted_out" if i % 5 == 0 else "capped" if i % 5 == 1 else "normal"].append(contact)
    for contact in groups["opted_out"]:
        consent_opt_out(organization=personas.org, phone=contact.phone, source=ConsentSource.USER)
    with commit(execute=True):
        message_send_many(
            organization=personas.org, contacts=groups["capped"], body="Earlier", source="test"
        )
    capped = [c.phone for c in groups["capped"]]
    assert Message.objects.filter(to__in=capped, status=Status.QUEUED).count() == len(capped)
    return groups


def test_it_applies_the_rules_to_a_mix_of_contacts_and_sends_the_rest(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    personas.org.frequency_cap = 1
    personas.org.save(update_fields=["frequency_cap"])
    messages_create(rsps)
    groups = build_audience(personas, rsps, django_capture_on_commit_callbacks, 100, 10)
    earlier = len(forms(rsps))

    with django_capture_on_commit_callbacks(execute=True):
        created = message_send_many(
            organization=personas.org,
            contacts=Contact.objects.filter(organization=personas.org).order_by("phone"),
            body="Sale today",
            source="automation",
            source_ref="42",
        )

    assert created == 10
    rows = {
        m.to: (m.status, m.suppressed_reason)
        for m in Message.objects.filter(body="Sale today", source="automation", source_ref="42")
    }
    assert rows == {
        **{c.phone: (Status.SUPPRESSED, SuppressedReason.OPTED_OUT) for c in groups["opted_out"]},
        **{c.phone: (Status.SUPPRESSED, SuppressedReason.FREQUENCY_CAP) for c in groups["capped"]},
        **{c.phone: (Status.QUEUED, "") for c in groups["normal"]},
    }
    sent = forms(rsps)[earlier:]
    assert sorted(f["To"][0] for f in sent) == sorted(c.phone for c in groups["normal"])
    for form in sent:
        message = Message.objects.get(body="Sale today", to=form["To"][0])
        assert form == expected_form(message, to=message.to, body="Sale today")
    events = MessageEvent.objects.filter(message__body="Sale today")
    assert sorted(events.values_list("message__to", "status", "params")) == sorted(
        [(c.phone, "suppressed", {"reason": "opted_out"}) for c in groups["opted_out"]]
        + [(c.phone, "suppressed", {"reason": "frequency_cap"}) for c in groups["capped"]]
        + [(c.phone, "pending", {}) for c in groups["normal"]]
        + [
            (m.to, "queued", {"sid": m.sid})
            for m in Message.objects.filter(body="Sale today", status=Status.QUEUED)
        ]
    )


def test_it_applies_a_dedupe_key_per_contact_in_a_fan_out(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    messages_create(rsps)
    first, second = (make_contact(personas, phone) for phone in numbers(300, 2))
    with django_capture_on_commit_callbacks(execute=True):
        message_send_many(
            organization=personas.org,
            contacts=[first],
            body="Welcome",
            dedupe_key="welcome:{contact}",
            source="automation",
        )

    with django_capture_on_commit_callbacks(execute=True):
        message_send_many(
            organization=personas.org,
            contacts=[first, second],
            body="Welcome",
            dedupe_key="welcome:{contact}",
            source="automation",
        )

    rows = list(
        Message.objects.order_by("pk").values_list(
            "to", "status", "suppressed_reason", "dedupe_key"
        )
    )
    assert rows == [
        (first.phone, Status.QUEUED, "", f"welcome:{first.public_id}"),
        (first.phone, Status.SUPPRESSED, SuppressedReason.DUPLICATE, f"welcome:{first.public_id}"),
        (second.phone, Status.QUEUED, "", f"welcome:{second.public_id}"),
    ]
    assert [f["To"] for f in forms(rsps)] == [[first.phone], [second.phone]]


def test_it_skips_contacts_of_another_organization_in_a_fan_out(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    theirs = Contact.objects.create(organization=personas.other_org, phone=ALICE, time_zone="UTC")

    with django_capture_on_commit_callbacks(execute=True):
        created = message_send_many(
            organization=personas.org, contacts=[theirs], body="Hi", source="test"
        )

    assert created == 0
    assert nothing_written()
    assert forms(rsps) == []


def test_it_fans_out_with_a_number_of_queries_that_does_not_grow_with_the_audience(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    personas.org.frequency_cap = 1
    personas.org.save(update_fields=["frequency_cap"])
    messages_create(rsps)
    template = template_create(
        organization=personas.org, name="Sale", body='Hi {{ first_name|default:"there" }}'
    ).template
    counted = {}
    for start, n in ((1000, 50), (2000, 200)):
        groups = build_audience(personas, rsps, django_capture_on_commit_callbacks, start, n)
        audience = Contact.objects.filter(organization=personas.org, phone__in=numbers(start, n))
        with (
            django_capture_on_commit_callbacks(execute=False) as callbacks,
            CaptureQueriesContext(db) as queries,
        ):
            created = message_send_many(
                organization=personas.org,
                contacts=audience,
                template=template,
                dedupe_key="sale:{contact}",
                source="automation",
                source_ref=str(n),
            )
        assert created == n
        assert len(callbacks) == 1  # one enqueue for the batch, not one per contact
        statuses = Message.objects.filter(source_ref=str(n)).values_list(
            "suppressed_reason", flat=True
        )
        assert sorted(statuses) == sorted(
            [SuppressedReason.OPTED_OUT] * len(groups["opted_out"])
            + [SuppressedReason.FREQUENCY_CAP] * len(groups["capped"])
            + [""] * len(groups["normal"])
        )
        sql = [q["sql"].lstrip().upper() for q in queries.captured_queries]
        counted[n] = (
            [s.split()[0] for s in sql if not s.startswith("INSERT")],
            sum(1 for s in sql if s.startswith("INSERT")),
        )

    assert counted[200][0] == counted[50][0]  # the same reads and writes, whatever the size
    # Inserts are bulk: at worst a few chunks (SQLite limits the parameters of one query).
    assert counted[200][1] <= 200 // 10
    assert len(counted[50][0]) + counted[50][1] <= 15
