"""Events the messaging room announces to higher rooms (automations listen).

Each is sent after the transaction that caused it commits (never on a rollback), with
``organization_id``, ``contact_ids`` and ``source`` (one of ``tenants.sources.Source``):

- ``inbound_received``: an inbound message was stored; adds ``message_id``, ``contact_id``,
  ``body`` and ``is_keyword`` (whether it was a consent word). ``contact_ids`` is
  ``[contact_id]``.
- ``message_status_changed``: messages moved to a new status; adds ``message_ids`` (at most
  1,000 per send, with the ``contact_ids`` of those messages), ``status`` and ``error_code``
  (or None). Sent once per change actually made, when a message reaches one of Twilio's
  statuses or is suppressed by the send task: from the send task (``system``), Twilio's status
  callbacks (``webhook``), the sweeper (``system``) and a person's decision (``ui``). Our own
  transient moves (``pending``, ``submitting``) and a message's creation are not announced:
  the caller of the send service has the row.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.dispatch import Signal

from tenants.sources import Source

inbound_received = Signal()
message_status_changed = Signal()

CHUNK_SIZE = 1000


def status_changed_after_commit(
    *,
    organization_id: int,
    messages: Sequence[tuple[int, int | None]],
    status: str,
    error_code: int | None,
    source: Source,
) -> None:
    """Announces ``(message id, contact id)`` pairs that moved to ``status``, in chunks."""
    for start in range(0, len(messages), CHUNK_SIZE):
        chunk = messages[start : start + CHUNK_SIZE]
        message_ids = [message_id for message_id, _ in chunk]
        contact_ids = sorted({contact_id for _, contact_id in chunk if contact_id is not None})
        transaction.on_commit(
            lambda message_ids=message_ids, contact_ids=contact_ids: (  # type: ignore[misc]
                message_status_changed.send(
                    sender=None,
                    organization_id=organization_id,
                    contact_ids=contact_ids,
                    source=Source(source).value,
                    message_ids=message_ids,
                    status=str(status),
                    error_code=error_code,
                )
            )
        )
