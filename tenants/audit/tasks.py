from __future__ import annotations

from celery import shared_task

from tenants.audit.services import audit_events_expire


@shared_task(name="tenants.audit.tasks.expire_audit_events")
def expire_audit_events() -> int:
    return audit_events_expire()
