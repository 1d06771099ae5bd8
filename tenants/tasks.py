from celery import shared_task

from tenants.idempotency import idempotency_keys_purge
from tenants.services import accounts, organizations


@shared_task(name="tenants.tasks.sessions_clear_expired")
def sessions_clear_expired() -> int:
    return accounts.sessions_clear_expired()


@shared_task(name="tenants.tasks.organization_purge")
def organization_purge(organization_id: int) -> dict[str, int]:
    return organizations.organization_purge(organization_id=organization_id)


@shared_task(name="tenants.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()
