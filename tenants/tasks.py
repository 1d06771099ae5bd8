from celery import shared_task

from tenants.services import sessions_clear_expired as clear


@shared_task(name="tenants.tasks.sessions_clear_expired")
def sessions_clear_expired() -> int:
    return clear()
