"""The Celery app: JSON only, two queues, and the beat schedule.

Queues:
- ``send``: tasks that call Twilio to send a batch of messages, named ``<app>.tasks.send_*``.
  They spend their time waiting on HTTP, so their worker uses the thread pool
  (``celery -A config worker -Q send -P threads``). They are acknowledged late, so a worker
  that dies mid-batch leaves the batch to be redelivered; each message's conditional claim
  makes that harmless (the messages already handed over are no longer pending, and one caught
  mid-call is left ``submitting`` for the sweeper to reconcile). Celery's time limits do not
  apply on the thread pool: sends are bounded by the Twilio seam's HTTP timeouts instead.
- ``default``: everything else, on the prefork pool with soft and hard time limits
  (``celery -A config worker -Q default``).

Nothing is ever scheduled with a long countdown: work due later is stored with a due time and
picked up by a beat task (docs/architecture.md, "A message's life").
"""

from __future__ import annotations

import fnmatch
import os
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

DEFAULT_QUEUE = "default"
SEND_QUEUE = "send"
SEND_TASK_PATTERN = "*.tasks.send_*"


class SendTaskAnnotation:
    """Late acknowledgement for every task routed to the ``send`` queue."""

    def annotate(self, task: Task[Any, Any]) -> dict[str, Any] | None:
        if fnmatch.fnmatchcase(task.name, SEND_TASK_PATTERN):
            return {"acks_late": True, "reject_on_worker_lost": True}
        return None


app = Celery("smshub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    event_serializer="json",
    task_default_queue=DEFAULT_QUEUE,
    task_routes={SEND_TASK_PATTERN: {"queue": SEND_QUEUE}},
    task_annotations=[SendTaskAnnotation()],
    task_ignore_result=True,
    task_soft_time_limit=240,
    task_time_limit=300,
    # A prefork worker takes one task at a time, so a long task never holds others hostage.
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    # Without this, Celery's Django fixup closes the task's database connection before and
    # after every task, whatever CONN_MAX_AGE says: a new PostgreSQL session per task (about
    # 2.4 ms in the worker and 10 ms in the server each). With it, Celery only recycles a
    # thread's connections every 2,000 tasks, and ``_reuse_connections`` below applies
    # CONN_MAX_AGE and the health check before each task, as Django does per request.
    CELERY_DB_REUSE_MAX=1000,
    timezone="UTC",
    enable_utc=True,
    beat_schedule={
        "enqueue-due-messages": {
            "task": "messaging.tasks.enqueue_due_messages",
            "schedule": 10.0,
        },
        "advance-automations": {
            "task": "automations.tasks.advance_due_runs",
            "schedule": 10.0,
        },
        # Events the broker refused while it was down (automations.services.held_events).
        "replay-held-events": {
            "task": "automations.tasks.replay_held_events",
            "schedule": 10.0,
        },
        "resume-launches": {
            "task": "automations.tasks.resume_launches",
            "schedule": 60.0,
        },
        "resume-imports": {
            "task": "contacts.tasks.resume_imports",
            "schedule": 60.0,
        },
        "remove-old-import-files": {
            "task": "contacts.tasks.remove_old_import_files",
            "schedule": crontab(minute=47, hour=2),
        },
        "sweep-messages": {
            "task": "messaging.tasks.sweep_messages",
            "schedule": 60.0,
        },
        "delete-expired-messages": {
            "task": "messaging.tasks.delete_expired_messages",
            "schedule": crontab(minute=37, hour=2),
        },
        "purge-idempotency-keys": {
            "task": "tenants.tasks.purge_idempotency_keys",
            "schedule": crontab(minute=7),
        },
        "clear-expired-sessions": {
            "task": "tenants.tasks.sessions_clear_expired",
            "schedule": crontab(minute=17, hour=3),
        },
        # Outbound webhooks: due attempts handed to workers (tenants/outbound), old events
        # deleted.
        "deliver-due-webhooks": {
            "task": "tenants.outbound.tasks.deliver_due_webhooks",
            "schedule": 10.0,
        },
        "purge-webhook-events": {
            "task": "tenants.outbound.tasks.purge_webhook_events",
            "schedule": crontab(minute=57, hour=2),
        },
        # The audit log keeps two years (tenants/audit).
        "expire-audit-events": {
            "task": "tenants.audit.tasks.expire_audit_events",
            "schedule": crontab(minute=27, hour=3),
        },
        # Spend on the dashboard: each Twilio account's Usage Records, hourly (connections).
        "refresh-usage-records": {
            "task": "connections.tasks.refresh_usage_records",
            "schedule": crontab(minute=23),
        },
        # Every minute on the minute: a date trigger's time of day is a whole minute.
        "enrol-due-dates": {
            "task": "automations.tasks.enrol_due_dates",
            "schedule": crontab(),
        },
    },
)
app.autodiscover_tasks()


@task_prerun.connect
def _reuse_connections(sender: Task[Any, Any] | None = None, **kwargs: Any) -> None:
    """Closes this thread's database connections that are broken or older than CONN_MAX_AGE
    (never inside an eager task, which runs in its caller's transaction)."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
