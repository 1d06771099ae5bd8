"""Events the contacts room announces to higher rooms (automations listen).

Each is sent after the transaction that caused it commits, once per change actually made,
with ``organization_id``, ``contact_ids`` (at most 1,000 per send: bigger changes are sent in
chunks, each with ``batch``: ``{"key", "total"}``, the same for every chunk of the change, so
a listener can follow the whole change) and ``source`` (one of ``tenants.sources.Source``:
``ui``, ``api``, ``import``, ``inbound``, ``webhook``, ``automation``…).

- ``contact_created``;
- ``contact_updated``: adds ``fields``, the names of the fields whose value changed (custom
  fields as ``custom.<key>``), so a date trigger can re-evaluate; tags and consent have events
  of their own and are not in it;
- ``contact_deleted``: adds ``phone`` (the contact row is gone by then; its consent stays);
- ``tag_added`` / ``tag_removed``: add ``tag_id`` and ``tag_name``;
- ``opted_out`` / ``opted_in``: add ``phone``.

A change that must not fire automations (an import run without **Fire automations**) is
announced all the same, with ``automations=False``: trigger listeners leave it, others (date
schedules) follow it.

The reserved opt-out tag never fires ``tag_added`` or ``tag_removed``: consent has
``opted_out`` and ``opted_in``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

from tenants.sources import Source

contact_created = Signal()
contact_updated = Signal()
contact_deleted = Signal()
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
    source = Source(source).value  # one vocabulary: an unknown word is a bug, not an event
    ids = list(contact_ids)
    if not ids and not allow_empty:
        return
    chunks = [ids[i : i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE)] or [[]]
    if len(chunks) > 1:
        extra["batch"] = {"key": uuid.uuid4().hex, "total": len(ids)}
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
