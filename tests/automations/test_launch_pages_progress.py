"""The launches on the automation's page: each with its kind, who, when, state and progress
("done of total"), polled while one is open and no longer once none is; once ended, the
preflight's figures beside what happened; Cancel, asked first and refused once ended; every
launch, paginated; and who may see and do what."""

from __future__ import annotations

import re

import pytest

from automations.models import Launch, LaunchKind, LaunchState
from automations.services.automations import automation_create
from automations.services.launches import launch_create, launch_preflight, launch_work
from tests.automations.insight_helpers import WRITERS, contacts, detail_url, table, text
from tests.automations.launch_helpers import (
    cancel_url,
    fragment_url,
    launches_url,
    manual,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued", "priced")]

EVERYONE = {"all": True}
POLLING = 'hx-trigger="every 2s"'


def launched(personas, count: int = 4) -> Launch:
    """A Run now to ``count`` contacts on the figures its confirmation would show."""
    automation = manual(personas)
    contacts(personas, count)
    figures = launch_preflight(automation=automation, audience=EVERYONE).as_dict()
    return launch_create(
        automation=automation, audience=EVERYONE, by=personas.marketer, preflight=figures
    )


def half_done(launch: Launch) -> None:
    Launch.objects.filter(pk=launch.pk).update(
        state=LaunchState.RUNNING, done=launch.total // 2, enrolled=launch.total // 2
    )


def test_an_open_launch_shows_its_progress_and_is_polled(personas):
    launch = launched(personas)
    half_done(launch)

    page = personas.client("viewer").get(detail_url(launch.automation))
    fragment = personas.client("viewer").get(fragment_url(launch.automation))

    html = page.content.decode()
    assert f'hx-get="{fragment_url(launch.automation)}" {POLLING}' in html
    assert re.search(
        r'<script src="/static/tenants/vendor/htmx-2\.0\.11\.min\.[0-9a-f]+\.js"', html
    )
    assert '<progress max="4" value="2"' in html
    [row] = table(page, "launches")
    assert row[0].startswith("Run now marketer@a.example.com, ")
    assert row[1:6] == ["Running", "50% 2 of 4 (50%)", "2", "0", "—"]
    assert POLLING in fragment.content.decode()
    assert table(fragment, "launches") == [row]
    assert "<html" not in fragment.content.decode()


def test_polling_stops_once_no_launch_is_open_and_the_figures_stand_beside_the_counts(
    personas,
):
    launch = launched(personas)
    assert launch_work(launch.pk) is False

    fragment = personas.client("marketer").get(fragment_url(launch.automation))

    assert POLLING not in fragment.content.decode()
    assert "hx-get" not in fragment.content.decode()
    [row] = table(fragment, "launches")
    # Four one-segment texts to the US at 0.0083.
    assert row[1:6] == [
        "Completed",
        "100% 4 of 4 (100%)",
        "4 expected 4",
        "0 expected 0",
        "4 segments $0.03 USD",
    ]
    assert row[6] == ""  # no Cancel once ended


def test_cancel_asks_first_then_stops_the_launch(personas):
    launch = launched(personas)
    half_done(launch)
    client = personas.client("marketer")

    page = client.get(detail_url(launch.automation)).content.decode()
    asked = client.get(cancel_url(launch))
    cancelled = client.post(cancel_url(launch))

    assert f'href="{cancel_url(launch)}"' in page
    assert "Stop sending to the remaining 2 contacts? Those already enrolled carry on." in text(
        asked
    )
    assert f'action="{cancel_url(launch)}"' in asked.content.decode()
    launch.refresh_from_db()
    assert (launch.state, launch.cancelled_by) == (LaunchState.CANCELLED, personas.marketer)
    assert cancelled["Location"] == detail_url(launch.automation) + "#launches"
    after = client.get(cancelled["Location"])
    assert "Cancelled: nobody else is enrolled. The 2 enrolled so far carry on." in text(after)
    assert POLLING not in after.content.decode()


def test_a_launch_already_ended_is_not_cancelled_again(personas):
    launch = launched(personas)
    launch_work(launch.pk)
    launch.refresh_from_db()
    client = personas.client("admin")

    again = client.post(cancel_url(launch))
    asked = client.get(cancel_url(launch))

    assert "This launch is completed: there is nothing to cancel." in text(
        client.get(again["Location"])
    )
    assert asked["Location"] == detail_url(launch.automation) + "#launches"
    ended = Launch.objects.get(pk=launch.pk)
    assert (ended.state, ended.finished_at, ended.cancelled_by) == (
        LaunchState.COMPLETED,
        launch.finished_at,
        None,
    )


@pytest.mark.parametrize("persona", WRITERS)
def test_writers_may_cancel(personas, persona):
    launch = launched(personas)
    assert personas.client(persona).get(cancel_url(launch)).status_code == 200


def test_the_viewer_sees_the_progress_without_cancel_and_may_not_cancel(personas):
    launch = launched(personas)
    client = personas.client("viewer")

    page = client.get(detail_url(launch.automation))

    assert len(table(page, "launches")) == 1
    assert f'href="{cancel_url(launch)}"' not in page.content.decode()
    assert client.get(cancel_url(launch)).status_code == 403
    assert client.post(cancel_url(launch)).status_code == 403
    assert Launch.objects.get(pk=launch.pk).is_open


def test_the_page_lists_the_newest_ten_and_every_launch_is_paginated(personas):
    launch = launched(personas)
    for n in range(29):
        Launch.objects.create(
            organization=personas.org,
            automation=launch.automation,
            kind=LaunchKind.BULK_EVENT,
            state=LaunchState.COMPLETED,
            event_key=f"batch:{n}",
            total=1,
            done=1,
            enrolled=1,
        )
    client = personas.client("viewer")

    page = client.get(detail_url(launch.automation))
    first = client.get(launches_url(launch.automation))
    second = client.get(launches_url(launch.automation), {"page": 2})

    assert len(table(page, "launches")) == 10
    assert f'href="{launches_url(launch.automation)}"' in page.content.decode()
    assert len(table(first, "launches")) == 25
    assert table(first, "launches")[0][0].startswith("Bulk change A bulk change, ")
    assert len(table(second, "launches")) == 5
    assert table(second, "launches")[-1][0].startswith("Run now marketer@a.example.com")
    assert "Page 1 of 2" in text(first)


def test_another_organizations_automation_or_launch_is_not_found(personas):
    launch = launched(personas)
    theirs = automation_create(organization=personas.other_org, name="Theirs")
    their_launch = Launch.objects.create(
        organization=personas.other_org, automation=theirs, kind=LaunchKind.MANUAL, event_key="x"
    )
    outsider = personas.client("outsider")
    marketer = personas.client("marketer")

    for url in (fragment_url(launch.automation), launches_url(launch.automation)):
        assert outsider.get(url).status_code == 404
    assert outsider.get(cancel_url(launch)).status_code == 404
    assert outsider.post(cancel_url(launch)).status_code == 404
    mixed = f"/automations/{launch.automation.public_id}/launches/{their_launch.public_id}/cancel/"
    assert marketer.post(mixed).status_code == 404
    assert Launch.objects.get(pk=launch.pk).is_open
    assert Launch.objects.get(pk=their_launch.pk).is_open
