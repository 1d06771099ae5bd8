"""The messages and first events of a send, inserted set-wise (``tenants.bulk_insert``): one
statement for a chunk's messages, one for their events. Used by
``services.sending.message_send_many``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection as db

from messaging.models import Message, MessageEvent
from tenants.bulk_insert import insert


def messages_insert(prototype: Message, varying: Sequence[str], rows: list[list[Any]]) -> list[int]:
    """Inserts the messages (``varying`` starts with ``public_id``); their ids, in order."""
    public_ids = [row[0] for row in rows]
    if db.features.can_return_rows_from_bulk_insert:
        returned = insert(Message, prototype, varying, rows, returning=("public_id", "id"))
    else:
        insert(Message, prototype, varying, rows)
        returned = list(
            Message.objects.filter(public_id__in=public_ids).values_list("public_id", "pk")
        )
    to_uuid = Message._meta.get_field("public_id").to_python  # the hex, without a UUID type
    ids = {to_uuid(public_id): pk for public_id, pk in returned}
    return [ids[public_id] for public_id in public_ids]


def events_insert(rows: list[tuple[int, str, dict[str, str]]]) -> None:
    """Each message's first event: ``(message id, status, params)``."""
    insert(MessageEvent, MessageEvent(), ("message_id", "status", "params"), rows)
