from typing import Any

from celery import shared_task

from automations.services.engine import runs_advance_due
from automations.services.enrolment import event_handle
from automations.triggers import Event


@shared_task(name="automations.tasks.handle_event")
def handle_event(event: dict[str, Any]) -> dict[str, int]:
    """An event a receiver enqueued: exits, then enrolments and their first steps."""
    return event_handle(Event.from_task_args(event))


@shared_task(name="automations.tasks.advance_due_runs")
def advance_due_runs() -> int:
    return runs_advance_due()
