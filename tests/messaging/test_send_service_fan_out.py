"""``message_send_many``: the rules per contact, dedupe keys, and queries that do not grow."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from messaging.models import Message, MessageEvent, Status, SuppressedReason
from messaging.services.sending import message_send_many
from templates_sms.services import template_create
from tenants.errors import ApplicationError
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    make_contact,
    messages_create,
)
from tests.messaging.send_helpers import (
    ALICE,
    BOB,
    nothing_written,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


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
    connect(personas)
    personas.org.frequency_cap = 1
    personas.org.save(update_fields=["frequency_cap"])
    messages_create(rsps)
    groups = build_audience(personas, rsps, django_capture_on_commit_callbacks, 100, 10)
    earlier = len(forms(rsps))

    with django_capture_on_commit_callbacks(execute=True):
        result = message_send_many(
            organization=personas.org,
            contacts=Contact.objects.filter(organization=personas.org).order_by("phone"),
            body="Sale today",
            source="automation",
            source_ref="42",
        )

    assert result.created == 10
    assert result.message_ids == [
        m.pk for m in Message.objects.filter(body="Sale today").order_by("to")
    ]
    assert result.statuses == {"pending": 6, "suppressed": 4}
    assert result.suppressed == {"opted_out": 2, "frequency_cap": 2}
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
    connect(personas)
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


def test_it_refuses_a_fan_out_with_a_contact_of_another_organization(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    ours = make_contact(personas, BOB)
    theirs = Contact.objects.create(organization=personas.other_org, phone=ALICE, time_zone="UTC")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ApplicationError) as caught,
    ):
        message_send_many(
            organization=personas.org, contacts=[ours, theirs], body="Hi", source="test"
        )

    assert caught.value.fields == {"contacts": [f"No such contact: {theirs.public_id}."]}
    assert nothing_written()
    assert forms(rsps) == []


def test_it_fans_out_with_a_number_of_queries_that_does_not_grow_with_the_audience(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
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
            result = message_send_many(
                organization=personas.org,
                contacts=audience,
                template=template,
                dedupe_key="sale:{contact}",
                source="automation",
                source_ref=str(n),
            )
        assert result.created == n
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
