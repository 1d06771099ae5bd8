from typing import Any

from celery import shared_task

from automations.funnels.funnel import funnel_recount
from automations.models import AutomationVersion
from automations.services.date_pass import dates_enrol_due
from automations.services.dates import schedule_contacts, schedule_sync
from automations.services.engine import runs_advance_due
from automations.services.enrolment import event_handle
from automations.services.held_events import held_events_replay
from automations.services.launches import launch_work, launches_resume
from automations.triggers import Event

# handle_event and work_launch are acknowledged once done, and delivered again if the worker
# dies: an event or a launch's work is idempotent (enrolments carry the event's key), so doing
# it twice is safe; losing it is not.


@shared_task(name="automations.tasks.handle_event", acks_late=True, reject_on_worker_lost=True)
def handle_event(event: dict[str, Any]) -> dict[str, int]:
    """An event a receiver enqueued: exits, then enrolments and their first steps."""
    return event_handle(Event.from_task_args(event))


@shared_task(name="automations.tasks.advance_due_runs")
def advance_due_runs() -> int:
    return runs_advance_due()


@shared_task(name="automations.tasks.replay_held_events")
def replay_held_events() -> int:
    return held_events_replay()


@shared_task(name="automations.tasks.work_launch", acks_late=True, reject_on_worker_lost=True)
def work_launch(launch_id: int) -> None:
    """A launch's chunks for a while; then the rest in a fresh task."""
    if launch_work(launch_id):
        work_launch.delay(launch_id)


@shared_task(name="automations.tasks.resume_launches")
def resume_launches() -> int:
    return launches_resume()


@shared_task(name="automations.tasks.enrol_due_dates")
def enrol_due_dates() -> int:
    """The date triggers' pass: the contacts whose date has come, enrolled."""
    return dates_enrol_due()


@shared_task(
    name="automations.tasks.sync_date_schedule", acks_late=True, reject_on_worker_lost=True
)
def sync_date_schedule(automation_id: int) -> int:
    """A date automation activated, published, paused or archived: its contacts' schedule."""
    return schedule_sync(automation_id=automation_id)


@shared_task(
    name="automations.tasks.schedule_contact_dates", acks_late=True, reject_on_worker_lost=True
)
def schedule_contact_dates(organization_id: int, contact_ids: list[int]) -> int:
    """Contacts created, or whose date or time zone changed: their next dates."""
    return schedule_contacts(organization_id=organization_id, contact_ids=contact_ids)


@shared_task(name="automations.tasks.recount_funnel")
def recount_funnel(version_id: int) -> None:
    """Counts a large automation's funnel again, as its page asked (at most once a minute)."""
    version = AutomationVersion.objects.filter(pk=version_id).select_related("automation").first()
    if version is not None:  # deleted since: nothing to count
        funnel_recount(version)
