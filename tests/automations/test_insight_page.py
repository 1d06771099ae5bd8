"""An automation's page: the flow in words, its state and versions, the live version's funnel
per step and A/B results from real rows, the latest enrolments, a constant number of queries,
and who may see it."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from automations.models import RunStep
from automations.services.automations import (
    automation_create,
    automation_pause,
    automation_update,
)
from contacts.services.tags import contact_tags_add
from messaging.models import Status
from tests.automations.helpers import ab_split, active, contact, send, template
from tests.automations.insight_helpers import (
    ROLES,
    TAG,
    contacts,
    detail_url,
    disconnect,
    enrol,
    message_of,
    opted_out,
    reply,
    set_status,
    table,
    text,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

HOURS = datetime.timedelta(hours=1)


def test_it_says_the_flow_in_words(personas):
    welcome = template(personas)
    follow_up = template(personas, "Follow-up", "Still there, {{ first_name }}?")
    steps = [
        send(welcome),
        {"id": "s2", "type": "wait", "duration": {"days": 2}},
        {"id": "s3", "type": "branch", "if": {"replied": False}, "then": "continue", "else": "end"},
        send(follow_up, "s4"),
    ]
    automation = active(personas, trigger=TAG, steps=steps)

    page = text(personas.client("viewer").get(detail_url(automation)))

    assert (
        "When the tag new-lead is added → send Welcome → wait 2 days → "
        "if the contact did not reply, go on; else end → send Follow-up"
    ) in page
    assert "Welcome new leads" in page
    assert "Active" in page
    assert "Live version: v1" in page
    assert "unpublished changes" not in page
    body = personas.client("viewer").get(detail_url(automation)).content.decode()
    assert f'href="/messages/?automation={automation.public_id}"' in body
    assert f'href="/automations/{automation.public_id}/dry-run/"' in body


def test_it_shows_the_state_and_unpublished_draft(personas):
    welcome = template(personas)
    other = template(personas, "Other", "Hello")
    automation = active(personas, trigger=TAG, steps=[send(welcome)])
    automation_pause(automation=automation)
    automation_update(
        automation=automation,
        definition={"trigger": TAG, "steps": [send(other)]},
    )

    page = text(personas.client("viewer").get(detail_url(automation)))

    assert "Paused" in page
    assert "The draft has unpublished changes." in page
    assert "The flow (v1) When the tag new-lead is added → send Welcome" in page
    assert "The draft, not published yet When the tag new-lead is added → send Other" in page


def test_it_links_to_the_builder_only_when_the_builder_is_there(personas):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    response = personas.client("marketer").get(detail_url(automation))
    try:
        editor = reverse("automation_edit", args=[automation.public_id])
    except NoReverseMatch:
        assert "Edit in the builder" not in text(response)
    else:
        assert f'href="{editor}"' in response.content.decode()


def test_the_funnel_counts_each_steps_messages_from_real_rows(personas, connection):
    steps = [
        send(template(personas), respect_quiet_hours=False),
        {"id": "s2", "type": "wait", "duration": {"days": 2}},
    ]
    automation = active(personas, trigger=TAG, steps=steps)
    delivered, read, failed, sent = people = contacts(personas, 4)
    enrol(automation, people)
    set_status(message_of(automation, delivered), Status.DELIVERED)
    set_status(message_of(automation, read), Status.READ)
    set_status(message_of(automation, failed), Status.UNDELIVERED)
    set_status(message_of(automation, sent), Status.SENT)
    reply(delivered, message_of(automation, delivered), 2 * HOURS)  # counted
    reply(read, message_of(automation, read), 30 * HOURS)  # too late
    opted_out(failed, message_of(automation, failed), 1 * HOURS)  # counted
    opted_out(sent, message_of(automation, sent), -1 * HOURS)  # before the message
    disconnect(personas, connection)
    late = contact(personas, phone="+14155559999")
    enrol(automation, [late], key="event-2")  # suppressed: no working connection

    rows = table(personas.client("viewer").get(detail_url(automation)), "funnel")

    assert rows == [
        [
            "1. send Welcome",
            "5",
            "4",
            "2",
            "1",
            "1 No working Twilio connection: 1",
            "1",
            "1",
        ],
        ["2. wait 2 days 5 waiting here now", "5", "—"],
    ]


def test_a_b_results_are_counted_per_variant(personas):
    first = template(personas, "Offer A", "Offer A for {{ first_name }}")
    second = template(personas, "Offer B", "Offer B for {{ first_name }}")
    automation = active(
        personas, trigger=TAG, steps=[ab_split((first, 2), (second, 3), respect_quiet_hours=False)]
    )
    people = contacts(personas, 30)
    enrol(automation, people)
    variant = dict(
        RunStep.objects.filter(run__automation=automation).values_list("run__contact", "variant")
    )
    a = [p for p in people if variant[p.pk] == 0]
    b = [p for p in people if variant[p.pk] == 1]
    assert a
    assert b
    for person in a:  # A: all delivered, one reply
        set_status(message_of(automation, person), Status.DELIVERED)
    reply(a[0], message_of(automation, a[0]), HOURS)
    set_status(message_of(automation, b[0]), Status.DELIVERED)  # B: one delivered, one failed
    set_status(message_of(automation, b[1]), Status.FAILED)
    opted_out(b[1], message_of(automation, b[1]), HOURS)  # …and one opt-out

    rows = table(personas.client("viewer").get(detail_url(automation)), "variants")

    assert rows == [
        ["A: Offer A", "2", str(len(a)), str(len(a)), "1", "0"],
        ["B: Offer B", "3", str(len(b)), "1", "0", "1"],
    ]
    assert all(message_of(automation, p).body.startswith("Offer A") for p in a)
    assert all(message_of(automation, p).body.startswith("Offer B") for p in b)


def test_the_latest_enrolments_are_listed_with_state_reason_and_contact(personas):
    automation = active(
        personas,
        trigger=TAG,
        steps=[send(template(personas), respect_quiet_hours=False)],
        entry_rules={"lacks_tags": ["customer"]},
    )
    ada = contact(personas, first_name="Ada", last_name="Lovelace")
    bob = contact(personas, phone="+14155550102", first_name="Bob", last_name="Smith")
    contact_tags_add(contact=bob, names=["customer"], source="ui")
    enrol(automation, [ada, bob])

    response = personas.client("viewer").get(detail_url(automation))
    rows = [row[1:] for row in table(response, "runs")]

    assert sorted(rows) == [
        ["Ada Lovelace", "Completed", "v1"],
        ["Bob Smith", "Skipped: Does not match the entry rules: has the tag customer", "v1"],
    ]
    assert f'href="/contacts/{ada.public_id}/"' in response.content.decode()
    assert "1 enrolled · 1 skipped" in text(response)


def test_the_enrolments_are_paginated(personas):
    automation = active(
        personas, trigger=TAG, steps=[send(template(personas), respect_quiet_hours=False)]
    )
    enrol(automation, contacts(personas, 30))
    client = personas.client("viewer")

    first = client.get(detail_url(automation))
    second = client.get(detail_url(automation) + "?page=2")

    assert len(table(first, "runs")) == 25
    assert len(table(second, "runs")) == 5
    assert "Page 1 of 2" in text(first)
    assert 'href="?page=2" rel="next"' in first.content.decode()


def _queries(personas, count: int, area: str) -> int:
    automation = active(
        personas,
        trigger=TAG,
        name=f"Automation {count}",
        steps=[
            send(template(personas, f"Welcome {count}"), respect_quiet_hours=False),
            {"id": "s2", "type": "wait", "duration": {"days": 2}},
        ],
    )
    people = [
        contact(personas, phone=f"+1{area}555{n:04d}", first_name=f"P{n}") for n in range(count)
    ]
    enrol(automation, people)
    for person in people:
        message = message_of(automation, person)
        set_status(message, Status.DELIVERED)
        reply(person, message, HOURS)
    client = personas.client("viewer")
    client.get(detail_url(automation))  # sessions and the like warmed up
    with CaptureQueriesContext(db) as captured:
        response = client.get(detail_url(automation))
    assert response.status_code == 200
    assert table(response, "funnel")[0][1] == str(count)
    return len(captured.captured_queries)


def test_the_page_costs_the_same_queries_for_1_or_30_enrolments(personas):
    assert _queries(personas, 1, "212") == _queries(personas, 30, "415")


def test_a_draft_without_a_version_has_no_funnel_yet(personas):
    automation = automation_create(organization=personas.org, name="Later")

    page = text(personas.client("viewer").get(detail_url(automation)))

    assert "Not published yet" in page
    assert "publish the automation to see how each step does" in page


@pytest.mark.parametrize("persona", ROLES)
def test_every_member_sees_the_page(personas, persona):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    assert "Welcome new leads" in text(personas.client(persona).get(detail_url(automation)))


def test_another_organizations_automation_is_not_found(personas):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    assert personas.client("outsider").get(detail_url(automation)).status_code == 404
    assert personas.client("viewer").get("/automations/not-an-id/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(personas, client):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    response = client.get(detail_url(automation))
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={detail_url(automation)}"
