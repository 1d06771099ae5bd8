"""The automations list: empty state, each row's words and figures (read in a constant
number of queries), pagination, and who sees the "New automation" button."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection as db_connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import timezone

from automations import urls as builder_urls
from automations.models import AutomationRun, RunState, State
from automations.reports import automation_list_stats
from automations.templatetags.automations_tags import automation_url
from messaging.models import Message, Status
from tenants.sources import Source
from tests.automations.helpers import active, contact, send, template
from tests.automations.page_helpers import LIST, NEW, WRITERS, draft_automation, visible
from tests.factories import page_text

pytestmark = pytest.mark.django_db

TAG = {"type": "tag_added", "tag": "new-lead"}


def run(automation, person, state, *, days_ago=0, ended_days_ago=None, key=None):
    row = AutomationRun.objects.create(
        organization=automation.organization,
        automation=automation,
        version=automation.live_version,
        contact=person,
        occurrence_key=key or f"event-{AutomationRun.objects.count()}",
        state=state,
    )
    now = timezone.now()
    ended = None if ended_days_ago is None else now - datetime.timedelta(days=ended_days_ago)
    AutomationRun.objects.filter(pk=row.pk).update(
        created_at=now - datetime.timedelta(days=days_ago), ended_at=ended
    )
    return row


def message(automation, person, status, *, days_ago=0, sid=True):
    row = Message.objects.create(
        organization=automation.organization,
        contact=person,
        to=person.phone,
        body="Hi",
        status=status,
        sid=f"SM{Message.objects.count():032x}" if sid else None,
        source=Source.AUTOMATION,
        source_ref=str(automation.public_id),
    )
    Message.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days_ago)
    )
    return row


def row_of(response, name):
    html = page_text(response)
    for found in re.findall(r"<tr>.*?</tr>", html, re.S):
        if f"<strong>{name}</strong>" in found:
            return {
                stat: int(value) for stat, value in re.findall(r'data-stat="(\w+)">(\d+)<', found)
            } | {"text": re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found)).strip()}
    raise AssertionError(f"no row for {name}")


@pytest.mark.parametrize("persona", WRITERS)
def test_it_invites_writers_to_create_the_first_automation(personas, persona):
    response = personas.client(persona).get(LIST)

    assert response.status_code == 200
    text = visible(response)
    assert "No automations yet" in text
    assert f'href="{NEW}"' in page_text(response)
    assert "Create your first automation" in text
    assert "New automation" in text


def test_it_shows_a_viewer_the_empty_state_without_a_create_button(personas):
    response = personas.client("viewer").get(LIST)

    assert response.status_code == 200
    text = visible(response)
    assert "No automations yet" in text
    assert "New automation" not in text
    assert "Create your first automation" not in text
    assert f'href="{NEW}"' not in page_text(response)


def test_it_lists_the_automation_in_the_main_navigation(personas):
    response = personas.client("viewer").get("/")

    assert '<a href="/automations/"' in page_text(response)
    listed = personas.client("viewer").get(LIST)
    assert re.search(
        r'<a href="/automations/"\s+aria-current="page">Automations</a>', page_text(listed)
    )


def test_it_shows_each_automations_trigger_state_and_live_version(personas, connection):
    welcome = template(personas)
    live = active(personas, trigger=TAG, steps=[send(welcome)], name="Live one")
    draft_automation(
        personas.org,
        name="Keyword draft",
        trigger={"type": "inbound_keyword", "keywords": ["JOIN"], "match": "exact"},
    )
    draft_automation(personas.other_org, name="Beta's automation")

    response = personas.client("viewer").get(LIST)

    assert response.status_code == 200
    assert row_of(response, "Live one")["text"].startswith(
        "Live one When the tag new-lead is added Active v1"
    )
    assert row_of(response, "Keyword draft")["text"].startswith(
        "Keyword draft When a contact texts JOIN Draft Not published"
    )
    assert "Beta's automation" not in visible(response)
    assert f'href="{automation_url(live)}"' in page_text(response)


def test_it_counts_the_last_seven_days_of_each_automation(personas, connection):
    welcome = template(personas)
    first = active(personas, trigger=TAG, steps=[send(welcome)], name="First")
    second = active(
        personas, trigger={"type": "tag_added", "tag": "b"}, steps=[send(welcome)], name="Second"
    )
    people = [contact(personas, phone=f"+1415555{n:04d}") for n in range(8)]
    run(first, people[0], RunState.WAITING)  # entered, under way
    run(first, people[1], RunState.RUNNING, days_ago=10)  # under way, entered long ago
    run(first, people[2], RunState.COMPLETED, days_ago=3, ended_days_ago=1)  # entered, completed
    run(first, people[3], RunState.COMPLETED, days_ago=20, ended_days_ago=9)  # nothing recent
    run(first, people[4], RunState.SKIPPED)  # refused by the rules: did not enter
    run(first, people[5], RunState.EXITED, days_ago=2, ended_days_ago=1)  # entered
    run(second, people[6], RunState.COMPLETED, days_ago=1, ended_days_ago=0)
    message(first, people[0], Status.DELIVERED)
    message(first, people[2], Status.READ, days_ago=2)
    message(first, people[5], Status.SENT)
    message(first, people[5], Status.SUPPRESSED, sid=False)  # never handed to Twilio
    message(first, people[3], Status.DELIVERED, days_ago=8)  # too old
    message(second, people[6], Status.UNDELIVERED)

    response = personas.client("marketer").get(LIST)

    first_row = row_of(response, "First")
    assert {k: first_row[k] for k in ("entered", "active", "completed", "sent", "delivered")} == {
        "entered": 3,
        "active": 2,
        "completed": 1,
        "sent": 3,
        "delivered": 2,
    }
    second_row = row_of(response, "Second")
    assert (second_row["entered"], second_row["completed"], second_row["sent"]) == (1, 1, 1)
    assert second_row["delivered"] == 0


def test_it_reads_the_figures_in_two_queries_for_any_number_of_automations(personas, connection):
    welcome = template(personas)
    few = [active(personas, trigger=TAG, steps=[send(welcome)], name="One")]
    many = few + [
        active(personas, trigger=TAG, steps=[send(welcome)], name=f"More {n}") for n in range(5)
    ]
    ada = contact(personas)
    for automation in many:
        run(automation, ada, RunState.WAITING, key=f"k{automation.pk}")
        message(automation, ada, Status.DELIVERED)

    with CaptureQueriesContext(db_connection) as one:
        automation_list_stats(personas.org, few)
    with CaptureQueriesContext(db_connection) as six:
        stats = automation_list_stats(personas.org, many)

    assert len(one.captured_queries) == len(six.captured_queries) == 2
    assert all(s.active == 1 and s.delivered == 1 for s in stats.values())
    assert automation_list_stats(personas.org, []) == {}


def test_it_pages_the_list_with_the_same_queries_per_page(personas, django_assert_max_num_queries):
    for n in range(51):
        draft_automation(personas.org, name=f"Automation {n:02d}")
    client = personas.client("marketer")

    with django_assert_max_num_queries(14):
        first = client.get(LIST)
    second = client.get(LIST + "?page=2")

    assert first.status_code == second.status_code == 200
    assert visible(first).count("When the tag new-lead is added") == 50
    assert "Page 1 of 2" in visible(first)
    assert visible(second).count("When the tag new-lead is added") == 1
    assert "Page 2 of 2" in visible(second)


def test_it_does_not_count_another_organizations_messages(personas, connection):
    welcome = template(personas)
    ours = active(personas, trigger=TAG, steps=[send(welcome)], name="Ours")
    ada = contact(personas)
    row = message(ours, ada, Status.DELIVERED)
    Message.objects.filter(pk=row.pk).update(organization=personas.other_org)

    response = personas.client("marketer").get(LIST)

    assert row_of(response, "Ours")["delivered"] == 0


def test_it_links_the_name_to_the_editor_when_there_is_no_automation_page(personas):
    automation = draft_automation(personas.org)
    only_builder = [path("automations/", include_builder())]

    with override_settings(ROOT_URLCONF=type("Urls", (), {"urlpatterns": only_builder})):
        assert automation_url(automation) == f"/automations/{automation.public_id}/edit/"


def include_builder():
    from django.urls import include

    return include(builder_urls)


def test_it_shows_archived_and_paused_states(personas, connection):
    welcome = template(personas)
    paused = active(personas, trigger=TAG, steps=[send(welcome)], name="Paused one")
    paused.state = State.PAUSED
    paused.save()

    response = personas.client("marketer").get(LIST)

    assert (
        "Paused one When the tag new-lead is added Paused v1"
        in row_of(response, "Paused one")["text"]
    )
    assert reverse("automation_list") == LIST
