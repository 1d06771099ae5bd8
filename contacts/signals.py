"""Events the contacts room announces to higher rooms (automations listen).

Each is sent after the transaction that caused it commits, once per change actually made,
with ``organization_id``, ``contact_ids`` (at most 1,000 per send: bigger changes are sent in
chunks) and ``source`` (``ui``, ``api``, ``import``, ``inbound``, ``webhook``, ``automation``).
Tag events add ``tag_id`` and ``tag_name``; consent events add ``phone``. The reserved opt-out
tag never fires ``tag_added`` or ``tag_removed``: consent has ``opted_out`` and ``opted_in``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

contact_created = Signal()
tag_added = Signal()
tag_removed = Signal()
opted_out = Signal()
opted_in = Signal()

CHUNK_SIZE = 1000


def emit_after_commit(
    signal: Signal,
    *,
    organization_id: int,
    contact_ids: Iterable[int],
    source: str,
    allow_empty: bool = False,
    **extra: Any,
) -> None:
    ids = list(contact_ids)
    if not ids and not allow_empty:
        return
    chunks = [ids[i : i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE)] or [[]]
    for chunk in chunks:
        transaction.on_commit(
            lambda chunk=chunk: signal.send(  # type: ignore[misc]
                sender=None,
                organization_id=organization_id,
                contact_ids=chunk,
                source=source,
                **extra,
            )
        )
