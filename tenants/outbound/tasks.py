from __future__ import annotations

from celery import shared_task

from tenants.outbound.services import delivery, retention


@shared_task(name="tenants.outbound.tasks.deliver_webhooks")
def deliver_webhooks(delivery_ids: list[int]) -> int:
    return delivery.deliveries_attempt(delivery_ids)


@shared_task(name="tenants.outbound.tasks.deliver_due_webhooks")
def deliver_due_webhooks() -> int:
    return delivery.deliveries_due()


@shared_task(name="tenants.outbound.tasks.purge_webhook_events")
def purge_webhook_events() -> int:
    return retention.webhook_events_purge()
