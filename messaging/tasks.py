from celery import shared_task

from messaging.services.idempotency import idempotency_keys_purge
from messaging.services.submit import message_submit, messages_enqueue_due


@shared_task(name="messaging.tasks.send_message")
def send_message(message_id: int) -> str:
    """Queue ``send`` (thread pool, late ack): see config/celery.py."""
    return message_submit(message_id)


@shared_task(name="messaging.tasks.enqueue_due_messages")
def enqueue_due_messages() -> int:
    return messages_enqueue_due()


@shared_task(name="messaging.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()
