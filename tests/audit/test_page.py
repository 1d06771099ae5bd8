"""Settings → Audit log: admins and owners only, newest first, filtered (days in the
organization's zone), paginated, an empty state, and the CSV export of the same filters."""

from __future__ import annotations

import datetime

import pytest

from tenants.audit import views
from tenants.audit.models import AuditEvent
from tests.audit.factories import event
from tests.csv_download import records, rows
from tests.factories import page_text

pytestmark = pytest.mark.django_db

URL = "/settings/audit-log/"
EXPORT = "/settings/audit-log/export/"
UTC = datetime.UTC


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_owners_and_admins_read_it_with_the_tab(personas, persona):
    event(personas.org, at=at(2), user=personas.owner)

    response = personas.client(persona).get(URL)

    assert response.status_code == 200
    text = page_text(response)
    assert "Changed a member's role: viewer@a.example.com" in text
    assert "role: viewer → marketer" in text
    assert f'href="{URL}" aria-current="page">Audit log' in response.content.decode()


@pytest.mark.parametrize("persona", ["marketer", "viewer"])
def test_marketers_and_viewers_are_refused_and_have_no_tab(personas, persona):
    client = personas.client(persona)

    assert client.get(URL).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert URL not in client.get("/settings/members/").content.decode()


def test_an_outsider_sees_only_its_own_organizations_events(personas):
    event(personas.org, at=at(2), user=personas.owner, target_label="secret-a@a.example.com")
    event(personas.other_org, at=at(3), user=personas.outsider, target_label="b@b.example.com")

    client = personas.client("outsider")
    text = page_text(client.get(URL))
    exported = rows(client.get(EXPORT))

    assert "b@b.example.com" in text
    assert "secret-a@a.example.com" not in text
    assert "secret-a@a.example.com" not in str(exported)
    assert len(exported) == 2  # the header and its own event


def test_each_row_says_when_in_the_organizations_zone_who_from_where_and_what(personas):
    personas.org.time_zone = "America/New_York"
    personas.org.save(update_fields=["time_zone"])
    event(personas.org, at=at(2, 15), user=personas.admin, address="198.51.100.9")

    text = page_text(personas.client("owner").get(URL))

    assert "Mar 2, 2026 10:00:00" in text  # 15:00 UTC is 10:00 in New York in March
    assert "admin@a.example.com" in text
    assert "198.51.100.9" in text
    assert "times in America/New_York" in text


def test_it_lists_newest_first_and_paginates(personas, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for day in (1, 2, 3):
        event(personas.org, at=at(day), target_label=f"day{day}@a.example.com")
    client = personas.client("admin")

    first = page_text(client.get(URL))
    second = page_text(client.get(URL + "?page=2"))

    assert first.index("day3@") < first.index("day2@")
    assert "day1@" not in first
    assert "Page 1 of 2" in first
    assert "day1@" in second
    assert "day3@" not in second


def test_filters_by_action_actor_target_and_days_in_the_zone(personas):
    personas.org.time_zone = "America/New_York"
    personas.org.save(update_fields=["time_zone"])
    event(personas.org, at=at(2, 3), user=personas.admin, target_label="late-night@x")  # Mar 1 NY
    event(personas.org, at=at(2, 15), user=personas.admin, target_label="admins@x")
    event(personas.org, at=at(2, 16), user=personas.owner, target_label="owners@x")
    event(
        personas.org,
        at=at(2, 17),
        action="api_key.created",
        target_type="api_key",
        target_label="the-key@x",
    )
    client = personas.client("owner")

    def listed(query: str) -> list[str]:
        text = page_text(client.get(f"{URL}?{query}"))
        return [
            name for name in ("late-night", "admins", "owners", "the-key") if f"{name}@x" in text
        ]

    admin_id = personas.admin.public_id
    assert listed("action=api_key.created") == ["the-key"]
    assert listed(f"actor={admin_id}") == ["late-night", "admins"]
    assert listed("actor=operator") == ["the-key"]
    assert listed("target_type=member") == ["late-night", "admins", "owners"]
    assert listed("date_from=2026-03-02&date_to=2026-03-02") == ["admins", "owners", "the-key"]
    assert listed("date_to=2026-03-01") == ["late-night"]


def test_the_actor_filter_offers_who_appears_in_the_log(personas):
    event(personas.org, at=at(2), user=personas.admin)
    event(personas.org, at=at(3))

    html = personas.client("owner").get(URL).content.decode()

    assert f'<option value="{personas.admin.public_id}">admin@a.example.com</option>' in html
    assert '<option value="operator">Operator (command line)</option>' in html
    assert "viewer@a.example.com</option>" not in html


def test_a_bad_filter_is_named_and_the_others_still_apply(personas):
    event(personas.org, at=at(2), target_label="kept@x")

    response = personas.client("owner").get(
        f"{URL}?action=nope&date_from=2026-03-05&date_to=2026-03-01"
    )

    text = page_text(response)
    assert "Select a valid choice. nope is not one of the available choices." in text
    assert "The last day comes after the first." in text
    assert "No events match these filters" in text  # from Mar 5 on: nothing


def test_the_empty_states(personas):
    client = personas.client("owner")

    assert "No events yet" in page_text(client.get(URL))
    event(personas.org, at=at(2))
    filtered = client.get(f"{URL}?action=api_key.revoked")
    text = page_text(filtered)
    assert "No events match these filters" in text
    assert f'href="{URL}">Clear filters</a>' in filtered.content.decode()


def test_the_export_has_every_event_the_filters_match_with_safe_cells(personas, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    event(personas.org, at=at(2), user=personas.admin, address="198.51.100.9")
    event(personas.org, at=at(3), user=personas.admin, target_label="=HYPERLINK(1)")
    event(personas.org, at=at(4), action="api_key.created", target_type="api_key")
    client = personas.client("owner")

    page = client.get(f"{URL}?actor={personas.admin.public_id}").content.decode()
    assert f'href="{EXPORT}?actor={personas.admin.public_id}"' in page
    response = client.get(f"{EXPORT}?actor={personas.admin.public_id}")

    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    found = records(response)
    assert [r["at"] for r in found] == ["2026-03-03T12:00:00Z", "2026-03-02T12:00:00Z"]
    newest, oldest = found
    assert newest["target"] == "'=HYPERLINK(1)"
    assert oldest == {
        "at": "2026-03-02T12:00:00Z",
        "action": "member.role_changed",
        "description": "Changed a member's role: viewer@a.example.com",
        "actor_type": "user",
        "actor": "admin@a.example.com",
        "address": "198.51.100.9",
        "target_type": "member",
        "target_id": "",
        "target": "viewer@a.example.com",
        "changes": "role: viewer → marketer",
        "changes_json": '{"role": {"after": "marketer", "before": "viewer"}}',
    }
    assert AuditEvent.objects.count() == 3
