from collections import Counter

from celery import shared_task

from messaging.services.dispatch import messages_enqueue_due
from messaging.services.retention import messages_delete_expired
from messaging.services.submit import message_submit, messages_submit
from messaging.services.sweeper import messages_sweep


@shared_task(name="messaging.tasks.send_messages")
def send_messages(message_ids: list[int], reserved: list[int] | None = None) -> dict[str, int]:
    """A batch of messages (queue ``send``: thread pool, late ack; see config/celery.py);
    ``reserved``, those of them whose rate-limit slots the run that deferred them holds.
    Returns how many had each outcome."""
    return dict(Counter(messages_submit(message_ids, reserved or ()).values()))


@shared_task(name="messaging.tasks.send_message")
def send_message(message_id: int) -> str:
    """One message: what the send service enqueued before batches (kept so that tasks
    already in a broker during an upgrade still run)."""
    return message_submit(message_id)


@shared_task(name="messaging.tasks.enqueue_due_messages")
def enqueue_due_messages() -> int:
    return messages_enqueue_due()


@shared_task(name="messaging.tasks.sweep_messages")
def sweep_messages() -> dict[str, int]:
    return messages_sweep().counts()


@shared_task(name="messaging.tasks.delete_expired_messages")
def delete_expired_messages() -> int:
    return messages_delete_expired()
