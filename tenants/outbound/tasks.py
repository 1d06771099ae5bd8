from __future__ import annotations

from celery import shared_task

from tenants.outbound.services import delivery, retention


@shared_task(name="tenants.outbound.tasks.deliver_webhooks")
def deliver_webhooks() -> int:
    return delivery.deliveries_drain()


@shared_task(name="tenants.outbound.tasks.deliver_due_webhooks")
def deliver_due_webhooks() -> bool:
    return delivery.deliveries_due()


@shared_task(name="tenants.outbound.tasks.purge_webhook_events")
def purge_webhook_events() -> int:
    return retention.webhook_events_purge()
