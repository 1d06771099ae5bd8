"""``/api/v1/automations/<id>/launches/``: a launch started against the preflight's figures
(refused when the audience has changed by more than 1% since), once per Idempotency-Key;
its progress listed and read; cancelled once."""

from __future__ import annotations

import pytest
import responses
from django.test import TestCase

from automations.models import Launch, LaunchKind, LaunchState
from automations.services import launches
from automations.services.automations import automation_archive, automation_pause
from automations.services.launches import WORKERS, launch_chunk, launch_create, launch_work
from contacts.services.tags import contact_tags_add
from tenants.models import IdempotencyKey
from tests.automations.api_helpers import TAG, error, ids, url
from tests.automations.helpers import active, contact, send, template
from tests.connections import pricing_mocks as pricing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

MANUAL = {"type": "manual"}
EVERYONE = {"all": True}
LAUNCH_FIELDS = {
    "id",
    "kind",
    "state",
    "audience",
    "total",
    "done",
    "enrolled",
    "skipped",
    "percent",
    "preflight",
    "error",
    "created_by",
    "cancelled_by",
    "created_at",
    "started_at",
    "finished_at",
}


def manual(personas, people: int = 2):
    for n in range(1, people + 1):
        contact(personas, f"+1415555{n:04d}")
    return active(
        personas, trigger=MANUAL, steps=[send(template(personas), respect_quiet_hours=False)]
    )


def start(api, automation, data, **headers):
    """The call, with what it leaves for after its commit (the launch task's enqueue)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api.post(url(automation, "launches/"), data, "json", **headers)


def test_a_launch_confirmed_with_the_preflight_is_201_recorded_and_enqueued(personas, worked):
    automation = manual(personas)
    api = personas.api("marketer")
    with responses.RequestsMock() as rsps:
        pricing.country(rsps, pricing.country_body())
        figures = api.post(url(automation, "preflight/"), {"audience": EVERYONE}, "json").json()

    response = start(api, automation, {"audience": EVERYONE, "preflight": figures})

    assert response.status_code == 201, response.content
    launch = Launch.objects.get()
    answer = response.json()
    assert set(answer) == LAUNCH_FIELDS
    assert answer["id"] == str(launch.public_id)
    assert (answer["kind"], answer["state"], answer["audience"], answer["total"]) == (
        "manual",
        "preparing",
        EVERYONE,
        2,
    )
    assert (answer["done"], answer["percent"], answer["created_by"]) == (0, 0, None)
    assert answer["preflight"] == figures
    assert (launch.automation, launch.kind, launch.total) == (automation, LaunchKind.MANUAL, 2)
    assert launch.source == "api"  # its enrolments' source
    assert launch.preflight == figures
    assert worked == [launch.pk] * WORKERS


def test_the_backfill_goes_to_who_already_matches_the_trigger(personas, worked):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    for phone in ("+14155550001", "+14155550002"):
        contact_tags_add(contact=contact(personas, phone), names=["new-lead"], source="ui")

    figures = {"audience": 2, "shown_to": "ops"}  # only the preflight's own are kept

    response = start(personas.api("admin"), automation, {"kind": "backfill", "preflight": figures})

    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["kind"], answer["audience"], answer["total"]) == (
        "backfill",
        {"has_all_tags": ["new-lead"]},
        2,
    )
    assert answer["preflight"] == {"audience": 2}
    assert worked == [Launch.objects.get().pk] * WORKERS


def test_a_second_backfill_is_409_and_starts_nothing(personas, worked):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    contact_tags_add(contact=contact(personas, "+14155550001"), names=["new-lead"], source="ui")
    client = personas.api("admin")
    assert (
        start(client, automation, {"kind": "backfill", "preflight": {"audience": 1}}).status_code
        == 201
    )

    again = start(client, automation, {"kind": "backfill", "preflight": {"audience": 1}})

    assert again.status_code == 409
    assert error(again)["code"] == "already_backfilled"
    assert Launch.objects.count() == 1


def test_archiving_cancels_the_automations_open_launch(personas):
    automation = manual(personas)
    launch = launch_create(automation=automation, audience=EVERYONE)
    automation_pause(automation=automation, by=personas.marketer)

    automation_archive(automation=automation, by=personas.marketer)

    launch.refresh_from_db()
    assert (launch.state, launch.error) == (LaunchState.CANCELLED, "The automation was archived.")
    assert launch.finished_at is not None
    assert launch_work(launch.pk) is False  # a worker that still gets it enrols nobody
    assert launch.automation.runs.count() == 0


@pytest.mark.parametrize("figures", [{"audience": 100}, {"audience": 1}, {}, {"eligible": 2}])
def test_a_stale_or_missing_audience_figure_is_409_and_starts_nothing(personas, worked, figures):
    automation = manual(personas)

    response = start(
        personas.api("marketer"),
        automation,
        {"audience": EVERYONE, "preflight": figures},
        HTTP_IDEMPOTENCY_KEY="run-1",
    )

    assert response.status_code == 409, response.content
    assert error(response)["code"] == "preflight_stale"
    message = error(response)["message"]
    if "audience" in figures:
        assert f"({figures['audience']:,} contacts then, 2 now)" in message
    else:
        assert message == "Run the preflight first: its figures are missing."
    assert not Launch.objects.exists()
    assert not IdempotencyKey.objects.exists()  # a refused call keeps no answer
    assert worked == []


def test_an_audience_changed_by_at_most_one_percent_still_launches(personas):
    automation = manual(personas, people=101)

    response = start(
        personas.api("marketer"), automation, {"audience": EVERYONE, "preflight": {"audience": 100}}
    )

    assert response.status_code == 201, response.content
    assert response.json()["total"] == 101


@pytest.mark.parametrize(
    ("sent", "fields"),
    [
        ({"audience": EVERYONE}, {"preflight"}),
        ({"audience": EVERYONE, "preflight": [1]}, {"preflight"}),
        ({"preflight": {"audience": 2}}, {"audience"}),
        ({"audience": {"has_any_tags": [""]}, "preflight": {"audience": 2}}, {"audience"}),
        ({"audience": {"lacks_tags": [7]}, "preflight": {"audience": 2}}, {"audience.lacks_tags"}),
        ({"audience": EVERYONE, "kind": "backfill", "preflight": {"audience": 2}}, {"audience"}),
        ({"audience": EVERYONE, "kind": "bulk_event", "preflight": {"audience": 2}}, {"kind"}),
    ],
)
def test_a_bad_body_is_400_naming_the_field(personas, worked, sent, fields):
    automation = manual(personas)

    response = start(personas.api("marketer"), automation, sent)

    assert response.status_code == 400, response.content
    assert set(error(response)["fields"]) == fields
    assert not Launch.objects.exists()
    assert worked == []


def test_a_paused_automation_is_409(personas, worked):
    automation = automation_pause(automation=manual(personas))

    response = start(
        personas.api("marketer"), automation, {"audience": EVERYONE, "preflight": {"audience": 2}}
    )

    assert response.status_code == 409, response.content
    assert error(response)["code"] == "automation_not_active"
    assert not Launch.objects.exists()


def test_a_retry_with_the_same_idempotency_key_starts_one_launch(personas, worked):
    automation = manual(personas)
    api = personas.api("marketer")
    data = {"audience": EVERYONE, "preflight": {"audience": 2}}

    first = start(api, automation, data, HTTP_IDEMPOTENCY_KEY="run-42")
    again = start(api, automation, data, HTTP_IDEMPOTENCY_KEY="run-42")
    other = start(
        api, automation, {**data, "preflight": {"audience": 3}}, HTTP_IDEMPOTENCY_KEY="run-42"
    )

    assert first.status_code == again.status_code == 201, again.content
    assert again.json() == first.json()
    assert str(Launch.objects.get().public_id) == first.json()["id"]
    assert worked == [Launch.objects.get().pk] * WORKERS
    assert other.status_code == 409  # the same key with another body
    assert error(other)["code"] == "idempotency_key_reused"
    second = start(api, automation, data, HTTP_IDEMPOTENCY_KEY="run-43")
    assert second.status_code == 201
    assert Launch.objects.count() == 2


def test_the_list_is_newest_first_and_paginated(personas):
    automation = manual(personas)
    older = launch_create(automation=automation, audience=EVERYONE, by=personas.marketer)
    newer = launch_create(automation=automation, audience={"has_all_tags": ["vip"]})
    another = active(
        personas, name="Another", trigger=MANUAL, steps=[send(template(personas, "Other"))]
    )
    launch_create(automation=another, audience=EVERYONE)
    api = personas.api("viewer")

    response = api.get(url(automation, "launches/"))
    page = api.get(url(automation, "launches/"), {"limit": 1})

    assert response.status_code == 200, response.content
    assert ids(response) == [str(newer.public_id), str(older.public_id)]
    rows = response.json()["results"]
    assert all(set(row) == LAUNCH_FIELDS for row in rows)
    assert (rows[0]["total"], rows[1]["total"]) == (0, 2)
    assert (rows[0]["created_by"], rows[1]["created_by"]) == (None, "marketer@a.example.com")
    assert ids(page) == [str(newer.public_id)]
    assert ids(api.get(page.json()["next"])) == [str(older.public_id)]


def test_the_detail_follows_the_launchs_progress(personas, monkeypatch):
    automation = manual(personas)
    launch = launch_create(automation=automation, audience=EVERYONE)
    path = url(automation, f"launches/{launch.public_id}/")
    api = personas.api("viewer")
    monkeypatch.setattr(launches, "CHUNK", 1)

    assert api.get(path).json()["state"] == "preparing"
    launch_chunk(launch.pk)
    running = api.get(path).json()
    launch_work(launch.pk)
    done = api.get(path).json()

    assert (running["state"], running["done"], running["enrolled"], running["percent"]) == (
        "running",
        1,
        1,
        50,
    )
    assert running["started_at"]
    assert running["finished_at"] is None
    assert (done["state"], done["done"], done["enrolled"], done["skipped"], done["percent"]) == (
        "completed",
        2,
        2,
        0,
        100,
    )
    assert done["finished_at"]
    assert done["error"] == ""


def test_cancel_stops_the_launch_and_a_second_cancel_is_409(personas):
    automation = manual(personas)
    launch = launch_create(automation=automation, audience=EVERYONE)
    path = url(automation, f"launches/{launch.public_id}/cancel/")
    api = personas.api("marketer")

    first = api.post(path)
    second = api.post(path)

    assert first.status_code == 200, first.content
    answer = first.json()
    assert (answer["id"], answer["state"], answer["cancelled_by"]) == (
        str(launch.public_id),
        "cancelled",
        None,
    )
    assert answer["finished_at"]
    launch.refresh_from_db()
    assert launch.state == LaunchState.CANCELLED
    assert second.status_code == 409, second.content
    assert error(second)["code"] == "launch_not_open"
    assert error(second)["message"] == "This launch is cancelled: there is nothing to cancel."


def test_a_finished_launch_cannot_be_cancelled(personas):
    automation = manual(personas)
    launch = launch_create(automation=automation, audience=EVERYONE)
    launch_work(launch.pk)

    response = personas.api("admin").post(url(automation, f"launches/{launch.public_id}/cancel/"))

    assert response.status_code == 409, response.content
    assert error(response)["code"] == "launch_not_open"
    launch.refresh_from_db()
    assert launch.state == LaunchState.COMPLETED
