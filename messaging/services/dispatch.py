"""Dispatch (step 2): the send tasks for messages due now, in batches of ids.

The messages table is the queue; the broker carries batches, never a message per SMS. A send's
batches are sized so that they keep a send worker's threads busy (``batches``);
``messages_enqueue_due`` enqueues the rows whose time has come (delays, quiet hours, backoff).
What a send task does with its batch is ``services.submit``.
"""

from __future__ import annotations

from django.utils import timezone

from messaging.models import Message, Status

# A send task takes a batch of ids: at most ``MAX_BATCH`` (a fan-out chunk; one broker message
# each), and the batches of a send spread over the send worker's threads (docker-compose: 16).
MAX_BATCH = 1000
MIN_BATCH = 10
BATCHES_PER_SEND = 128  # eight per thread: a thread that is done early takes another
SEND_THREADS = 16


def messages_enqueue_due(limit: int = 1000) -> int:
    """Enqueues pending messages whose time has come (delays, quiet hours, backoff), in
    batches of one organization each."""
    now = timezone.now()
    due = list(
        Message.objects.filter(status=Status.PENDING, send_after__lte=now)
        .filter(enqueued_at__isnull=True)
        .order_by("send_after")
        .values_list("pk", "organization_id")[:limit]
    )
    if not due:
        return 0
    ids = [pk for pk, _ in due]
    Message.objects.filter(pk__in=ids, status=Status.PENDING, enqueued_at__isnull=True).update(
        enqueued_at=now
    )
    by_organization: dict[int, list[int]] = {}
    for pk, organization_id in due:
        by_organization.setdefault(organization_id, []).append(pk)
    for message_ids in by_organization.values():
        send_batches(message_ids)
    return len(due)


def send_batches(message_ids: list[int], *, total: int | None = None) -> None:
    """Enqueues send tasks for these messages, in batches: never a broker message per SMS,
    and enough batches to keep a send worker's threads busy. ``total``: the size of the whole
    send these ids are a chunk of (a fan-out enqueues chunk by chunk)."""
    from messaging.tasks import send_messages

    for batch in batches(message_ids, total=total):
        send_messages.delay(batch)


def batches(message_ids: list[int], *, total: int | None = None) -> list[list[int]]:
    """Batches for a send of ``total`` messages (by default these): about ``BATCHES_PER_SEND``
    of them, so that threads finishing early find another and none ends with a long tail, but
    at least enough for every one of ``SEND_THREADS`` threads, none under ``MIN_BATCH`` when
    there is enough to share, and none over ``MAX_BATCH``: 20 messages are 10 batches of 2,
    5,000 are 125 of 40, and a 100,000-message fan-out two of 500 per chunk of 1,000.
    The batches of one call are even."""
    n = max(total or 0, len(message_ids))
    spread = -(-n // SEND_THREADS)
    size = max(1, min(MAX_BATCH, max(-(-n // BATCHES_PER_SEND), min(MIN_BATCH, spread))))
    size = -(-len(message_ids) // -(-len(message_ids) // size)) if message_ids else size
    return [message_ids[i : i + size] for i in range(0, len(message_ids), size)]
