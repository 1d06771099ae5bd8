"""automation.run_completed and launch.completed: recorded by the engine's batch and the
launch's last chunk, as the API shows the enrolment and the launch, with the automation's id."""

from __future__ import annotations

import pytest

from automations.models import AutomationRun, LaunchState, RunState
from automations.services.launches import launch_create, launch_work
from tenants.outbound.models import WebhookEvent
from tests.automations.helpers import Enqueued, active, contact, send, template
from tests.connections.helpers import connect
from tests.messaging.helpers import unlimited
from tests.outbound.conftest import make_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sends_recorded(personas, monkeypatch):
    """Connected; the send batches recorded instead of sent (the events are the subject)."""
    connect(personas)
    monkeypatch.setattr("messaging.services.sending.send_batches", Enqueued())
    unlimited(monkeypatch)


def payloads(type: str) -> list[dict]:
    return [e.payload for e in WebhookEvent.objects.filter(type=type).order_by("pk")]


def launched(personas, count: int = 3):
    automation = active(
        personas,
        trigger={"type": "manual"},
        steps=[send(template(personas), respect_quiet_hours=False)],
    )
    for n in range(count):
        contact(personas, f"+1415555{n + 100:04d}")
    launch = launch_create(automation=automation, audience={"all": True}, by=personas.marketer)
    while launch_work(launch.pk):
        pass
    launch.refresh_from_db()
    return automation, launch


def test_each_enrolment_that_completes_is_recorded_as_the_api_shows_it(personas):
    make_endpoint(personas.org, event_types=["automation.run_completed"])
    automation, _launch = launched(personas)
    runs = AutomationRun.objects.filter(automation=automation)
    assert set(runs.values_list("state", flat=True)) == {RunState.COMPLETED}
    completed = payloads("automation.run_completed")
    assert len(completed) == 3
    api = personas.api("viewer").get(f"/api/v1/automations/{automation.public_id}/runs/").json()
    by_id = {run["id"]: run for run in api["results"]}
    for payload in completed:
        data = dict(payload["data"])
        assert data.pop("automation") == str(automation.public_id)
        assert data == by_id[data["id"]]
        assert data["state"] == "completed"
        assert [step["outcome"] for step in data["steps"]] == ["sent"]


def test_a_completed_launch_is_recorded_as_the_api_shows_it(personas):
    make_endpoint(personas.org, event_types=["launch.completed"])
    automation, launch = launched(personas)
    assert launch.state == LaunchState.COMPLETED
    (payload,) = payloads("launch.completed")
    data = dict(payload["data"])
    assert data.pop("automation") == str(automation.public_id)
    api = personas.api("viewer").get(
        f"/api/v1/automations/{automation.public_id}/launches/{launch.public_id}/"
    )
    assert data == api.json()
    assert (data["state"], data["enrolled"]) == ("completed", 3)
    assert not payloads("automation.run_completed")  # not subscribed


def test_nothing_is_recorded_without_a_subscribed_endpoint(personas):
    make_endpoint(personas.other_org, event_types=["launch.completed", "automation.run_completed"])
    launched(personas)
    assert not WebhookEvent.objects.exists()
