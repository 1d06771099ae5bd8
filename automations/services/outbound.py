"""The automations room's outbound webhook events (``tenants.outbound``), recorded in the
transaction of the change, with the resource as this room's API shows it and the
automation's id:

- ``automation.run_completed``: an enrolment that reached the end of its automation (the
  engine's batch: one insert for the batch), as ``RunSerializer`` with its step ledger;
- ``launch.completed``: a launch done (``LaunchSerializer``).

Each asks ``wanted`` first, so nothing is read or serialized without a subscribed endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

from automations.models import AutomationRun, Launch
from automations.selectors import runs_with_steps
from tenants.outbound import services as outbound

RUN_COMPLETED = "automation.run_completed"
LAUNCH_COMPLETED = "launch.completed"
CHUNK = 500


@outbound.in_utc
def runs_completed_record(*, organization_id: int, run_ids: Sequence[int]) -> None:
    if not run_ids or not outbound.wanted(organization_id, RUN_COMPLETED):
        return
    # The serializers import the services (a cycle at import time): imported when needed.
    from automations.serializers import RunSerializer

    for start in range(0, len(run_ids), CHUNK):
        chunk = list(run_ids[start : start + CHUNK])
        runs = list(runs_with_steps(AutomationRun.objects.filter(pk__any=chunk).order_by("pk")))
        outbound.events_record(
            organization_id=organization_id,
            type=RUN_COMPLETED,
            data=[
                {**data, "automation": str(run.automation.public_id)}
                # many=True: the fields are built once for the chunk, not once per run.
                for run, data in zip(runs, RunSerializer(runs, many=True).data, strict=True)
            ],
        )


@outbound.in_utc
def launch_completed_record(launch: Launch) -> None:
    if not outbound.wanted(launch.organization_id, LAUNCH_COMPLETED):
        return
    from automations.serializers_launch import LaunchSerializer

    automation = launch.automation
    outbound.event_record(
        organization_id=launch.organization_id,
        type=LAUNCH_COMPLETED,
        data={**LaunchSerializer(launch).data, "automation": str(automation.public_id)},
    )
