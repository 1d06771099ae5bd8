"""The message log (/messages/): who sees it, its empty states, its filters, and invalid filter
values reported and ignored."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

import pytest

from contacts.services.contacts import contact_create
from templates_sms.models import SmsTemplate
from tests.factories import page_text
from tests.messaging.log.helpers import (
    COUNTS,
    LOG,
    REMOVE,
    ROLES,
    add,
    bodies,
)

pytestmark = pytest.mark.django_db


# --- Who sees the log -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ROLES)
def test_every_member_sees_the_organizations_messages(personas, persona):
    add(personas.org, "Hello from Acme")
    add(personas.other_org, "Hello from Beta")
    response = personas.client(persona).get(LOG)
    assert bodies(response) == ["Hello from Acme"]


def test_the_outsider_sees_only_their_own_organizations_messages(personas):
    add(personas.org, "Hello from Acme")
    add(personas.other_org, "Hello from Beta")
    text = page_text(personas.client("outsider").get(LOG))
    assert "Hello from Beta" in text
    assert "Hello from Acme" not in text


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(LOG)
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/messages/"


def test_the_navigation_links_to_the_log(viewer):
    assert re.search(r'<a href="/messages/"[^>]*>Messages</a>', page_text(viewer.get("/")))


# --- Empty states -----------------------------------------------------------------------------


def test_an_organization_without_messages_is_told_so(viewer):
    text = page_text(viewer.get(LOG))
    assert "No messages yet" in text
    assert "No messages match" not in text


def test_filters_matching_nothing_offer_to_clear_them(personas, viewer):
    add(personas.org, "delivered one")
    response = viewer.get(LOG, {"status": "failed"})
    text = page_text(response)
    assert bodies(response) == []
    assert "No messages match" in text
    assert '<a class="button" href="/messages/">Clear filters</a>' in text
    assert "No messages yet" not in text


# --- Order and filters ------------------------------------------------------------------------


def test_the_newest_message_comes_first(viewer, sample):
    assert bodies(viewer.get(LOG)) == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "failed"}, ["b", "e"]),
        ({"status": "received"}, ["c"]),
        ({"direction": "inbound"}, ["c"]),
        ({"direction": "outbound"}, ["a", "b", "d", "e"]),
        ({"attention": "on"}, ["b", "e"]),
        ({"status": "failed", "attention": "on"}, ["b", "e"]),
        ({"status": "delivered", "direction": "outbound"}, ["a", "d"]),
    ],
)
def test_each_filter_narrows_the_log(viewer, sample, query, expected):
    assert bodies(viewer.get(LOG, query)) == expected


def test_the_template_filter_takes_the_templates_public_id(viewer, sample, template):
    assert bodies(viewer.get(LOG, {"template": str(template.public_id)})) == ["a", "e"]
    query = {"template": str(template.public_id), "status": "failed"}
    assert bodies(viewer.get(LOG, query)) == ["e"]


def test_the_contact_filter_names_the_contact_with_a_remove_link(viewer, sample, ada):
    response = viewer.get(LOG, {"direction": "outbound", "contact": str(ada.public_id)})
    assert bodies(response) == ["a", "b"]
    text = page_text(response)
    assert "Contact: <span" in text
    assert "Ada Lovelace · +14155550123" in text
    remove = re.search(rf'<a href="([^"]*)"[^>]*>{REMOVE}</a>', text)
    assert remove is not None
    assert remove.group(1) == "?direction=outbound"


@pytest.fixture
def around_midnight(personas: Any) -> None:
    """New York is UTC-5 in January: 04:30 UTC is 23:30 the day before there."""
    personas.org.time_zone = "America/New_York"
    personas.org.save(update_fields=["time_zone"])

    def utc(day: int, hour: int) -> datetime.datetime:
        return datetime.datetime(2024, 1, day, hour, 30, tzinfo=datetime.UTC)

    add(personas.org, "Jan 14 late", at=utc(15, 4))
    add(personas.org, "Jan 15 early", at=utc(15, 5))
    add(personas.org, "Jan 15 late", at=utc(16, 4))
    add(personas.org, "Jan 16 early", at=utc(16, 5))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"since": "2024-01-15", "until": "2024-01-15"}, ["Jan 15 late", "Jan 15 early"]),
        ({"since": "2024-01-15"}, ["Jan 16 early", "Jan 15 late", "Jan 15 early"]),
        ({"until": "2024-01-15"}, ["Jan 15 late", "Jan 15 early", "Jan 14 late"]),
        ({"since": "2024-01-16", "until": "2024-01-16"}, ["Jan 16 early"]),
        ({"until": "2024-01-14"}, ["Jan 14 late"]),
    ],
)
def test_dates_are_whole_days_in_the_organizations_time_zone(
    viewer, around_midnight, query, expected
):
    assert bodies(viewer.get(LOG, query)) == expected


def test_times_are_shown_in_the_organizations_time_zone(viewer, around_midnight):
    text = page_text(viewer.get(LOG, {"since": "2024-01-15", "until": "2024-01-15"}))
    assert "Times and dates in America/New_York." in text
    assert "Jan 15, 23:30" in text  # "Jan 15 late": 04:30 UTC on the 16th
    assert "Jan 15, 00:30" in text  # "Jan 15 early": 05:30 UTC


# --- Invalid filters --------------------------------------------------------------------------


def test_an_unknown_status_is_reported_and_ignored(viewer, sample):
    response = viewer.get(LOG, {"status": "lost", "direction": "inbound"})
    assert bodies(response) == ["c"]
    assert "Select a valid choice. lost is not one of the available choices." in page_text(response)


def test_another_organizations_template_is_reported_and_ignored(personas, viewer, sample):
    theirs = SmsTemplate.objects.create(organization=personas.other_org, name="Theirs", body="x")
    response = viewer.get(LOG, {"template": str(theirs.public_id), "direction": "inbound"})
    assert bodies(response) == ["c"]
    assert "Select a valid choice." in page_text(response)


def test_a_contact_that_does_not_exist_is_reported_and_ignored(viewer, sample):
    response = viewer.get(LOG, {"contact": str(uuid.uuid4()), "direction": "inbound"})
    assert bodies(response) == ["c"]
    text = page_text(response)
    assert "That contact no longer exists." in text
    assert REMOVE not in text


def test_another_organizations_contact_is_reported_and_its_messages_stay_hidden(
    personas, viewer, sample
):
    theirs = contact_create(organization=personas.other_org, phone="+14155550199", source="ui")
    add(personas.other_org, "their secret", contact=theirs)
    response = viewer.get(LOG, {"contact": str(theirs.public_id), "direction": "inbound"})
    assert bodies(response) == ["c"]
    assert "That contact no longer exists." in page_text(response)


def test_a_malformed_contact_id_reads_like_a_missing_contact(viewer, sample):
    """A truncated or edited link: the form's own message, not Django's UUID error.

    Fails today: ModelChoiceField (Django 5.2) lets the UUIDField's ValidationError through,
    so the page says “not-a-uuid” is not a valid UUID. instead.
    """
    response = viewer.get(LOG, {"contact": "not-a-uuid", "direction": "inbound"})
    assert bodies(response) == ["c"]
    text = page_text(response)
    assert "That contact no longer exists." in text
    assert "is not a valid UUID" not in text


def test_an_end_date_before_the_start_date_is_reported(viewer, around_midnight):
    query = {"since": "2024-01-15", "until": "2024-01-14", "status": "delivered"}
    response = viewer.get(LOG, query)
    assert "The end date is before the start date." in page_text(response)
    # The end date is dropped; the start date stays, as does everything else.
    assert bodies(response) == ["Jan 16 early", "Jan 15 late", "Jan 15 early"]


@pytest.mark.parametrize("value", ["0001-01-01", "1999-12-31", "3000-01-01", "9999-12-31"])
def test_a_day_outside_the_years_2000_to_2999_is_reported_and_ignored(viewer, sample, value):
    for field in ("since", "until"):
        response = viewer.get(LOG, {field: value, "direction": "inbound"})
        assert bodies(response) == ["c"]
        assert "Choose a day between 2000-01-01 and 2999-12-31." in page_text(response)
        assert viewer.get(COUNTS, {field: value}).status_code == 200


@pytest.mark.parametrize("value", ["2024-13-45", "yesterday", "15/01/2024"])
def test_a_malformed_date_is_reported_and_ignored(viewer, sample, value):
    response = viewer.get(LOG, {"since": value, "direction": "inbound"})
    assert bodies(response) == ["c"]
    assert "Enter a valid date." in page_text(response)
