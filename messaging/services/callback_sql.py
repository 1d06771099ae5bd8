"""The status callback's read and write, in SQL.

Twilio posts one callback per status of every message, so this is the busiest request the
product serves. Building these statements through the ORM cost more than running them (about
half a millisecond of query compilation each), so they are written out here, once, with the
tables and columns taken from the models. ``tests/messaging/test_status_callbacks.py`` covers
them on SQLite and PostgreSQL (CI).

- The read joins the message to its connection and credentials: one round trip.
- On PostgreSQL the write is one statement (the event's ``INSERT … ON CONFLICT DO NOTHING`` in a
  CTE, then the ``UPDATE`` that matches the row only while the status may move), atomic under
  autocommit; elsewhere the same two statements run in one transaction. A callback that does
  not move the status (a repeat, a late one) then touches the row in a second statement.
- With an outbound webhook subscribed to ``message.status_changed`` (``announce_to``), the
  same statement on PostgreSQL also records the outbox's event, a snapshot of the row as it
  moved, and its deliveries (``tenants.outbound``'s ``snapshot_ctes``; the first drain renders
  it as the API shows a message); elsewhere the event is rendered and recorded in the write's
  transaction.
"""

# The statements are assembled from the models' own table and column names, quoted by the
# backend; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import UUID

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from connections.models import Connection, TwilioCredentials
from contacts.models import Contact
from messaging.models import Message, MessageEvent, Status
from messaging.services.outbound import STATUS_CHANGED, messages_status_record
from messaging.statuses import allowed_before, explain
from tenants.outbound.services.events import snapshot_ctes, wake_on_commit

FAILURES = (Status.UNDELIVERED, Status.FAILED, Status.CANCELED)


@dataclass(frozen=True)
class CallbackTarget:
    """What a status callback needs to know about its message, read in one query."""

    message_id: int
    organization_id: int
    contact_id: int | None
    connection_id: int | None
    last_webhook_at: datetime | None
    auth_token_encrypted: str | None


@dataclass(frozen=True)
class StatusMove:
    """The columns a callback may change, and the statuses it may move them from."""

    status: str
    move_from: tuple[str, ...]  # empty: the status is not one we track; only the SID is kept
    sid: str
    error_code: int | None
    error_message: str

    @property
    def succeeds(self) -> bool:
        """A status that proves the message went out: an error recorded before it (a timeout
        while sending, say) no longer holds."""
        return self.status not in FAILURES

    @classmethod
    def to(cls, status: str, *, sid: str = "", error_code: int | None = None) -> StatusMove:
        return cls(status, allowed_before(status), sid, error_code, explain(error_code))


def _column(model: Any, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@cache
def _read_sql() -> str:
    m, c, t = _column(Message, "connection"), _column(Connection, "id"), TwilioCredentials
    return (
        f"SELECT m.{_column(Message, 'id')}, m.{_column(Message, 'organization')},"
        f" m.{_column(Message, 'contact')}, m.{m}, c.{_column(Connection, 'last_webhook_at')},"
        f" t.{_column(t, 'auth_token_encrypted')}"
        f" FROM {_table(Message)} m"
        f" LEFT JOIN {_table(Connection)} c ON c.{c} = m.{m}"
        f" LEFT JOIN {_table(t)} t ON t.{_column(t, 'connection')} = m.{m}"
        f" WHERE m.{_column(Message, 'public_id')} = %s"
    )


def callback_target(public_id: UUID) -> CallbackTarget | None:
    db = connections[DEFAULT_DB_ALIAS]
    key = public_id if db.features.has_native_uuid_field else public_id.hex
    with db.cursor() as cursor:
        cursor.execute(_read_sql(), [key])
        row = cursor.fetchone()
    if row is None:
        return None
    message_id, organization_id, contact_id, connection_id, last_webhook_at, token = row
    if last_webhook_at is not None and timezone.is_naive(last_webhook_at):
        last_webhook_at = last_webhook_at.replace(tzinfo=UTC)  # SQLite keeps UTC, naive
    return CallbackTarget(
        message_id, organization_id, contact_id, connection_id, last_webhook_at, token
    )


@cache
def _insert_sql() -> str:
    columns = ("message", "status", "error_code", "params", "callback_key", "at")
    names = ", ".join(_column(MessageEvent, name) for name in columns)
    conflict = ", ".join(_column(MessageEvent, name) for name in ("message", "callback_key"))
    return (
        f"INSERT INTO {_table(MessageEvent)} ({names})"
        f" VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT ({conflict}) DO NOTHING"
    )


@cache
def _update_sql(*, sid: bool, move_from: int, error: bool, returning: str = "") -> str:
    """Forward only, in the statement itself: a repeated or late callback changes nothing.

    One statement per shape: with a SID or not, how many statuses the message may move from
    (0: a status we do not track, only the SID is kept: the "touch"), with error columns to
    set or not (an error, or a success that clears a stale one). A move matches the row only
    while its status is one it may move from, checked again under the row's lock, so that of
    two racing callbacks only one moves the status (and announces it); a callback that does
    not move it then touches the row (``updated_at``, the SID). Reading the old status under
    a ``FOR UPDATE`` in the same statement, as the write did first, took 0.08 of its 0.79 ms
    on PostgreSQL 15 (alternating blocks of 300 statements under autocommit)."""
    sets = [f"{_column(Message, 'updated_at')} = %s"]
    if sid:
        # Kept even when the callback beats the send task's own answer; never overwritten.
        column = _column(Message, "sid")
        sets.append(f"{column} = COALESCE({column}, %s)")
    where = f"{_column(Message, 'id')} = %s"
    if move_from:
        fields = ("status", "error_code", "error_message") if error else ("status",)
        sets += [f"{_column(Message, field)} = %s" for field in fields]
        where += f" AND {_column(Message, 'status')} IN ({', '.join(['%s'] * move_from)})"
    sql = f"UPDATE {_table(Message)} SET {', '.join(sets)} WHERE {where}"
    return f"{sql} RETURNING {returning}" if returning else sql


def _update(
    move: StatusMove, now: Any, message_id: int, *, touch: bool = False, returning: str = ""
) -> tuple[str, list[Any]]:
    """The move's UPDATE, or (``touch``, or a status we do not track) the touch's."""
    moves = bool(move.move_from) and not touch
    error = moves and (move.error_code is not None or move.succeeds)
    sql = _update_sql(
        sid=bool(move.sid),
        move_from=len(move.move_from) if moves else 0,
        error=error,
        returning=returning if moves else "",
    )
    values: list[Any] = [now]
    if move.sid:
        values.append(move.sid)
    if error:
        values += [move.status, move.error_code, move.error_message]
    elif moves:
        values.append(move.status)
    values.append(message_id)
    if moves:
        values += move.move_from
    return sql, values


def _write(move: StatusMove, now: Any, message_id: int, event: list[Any] | None) -> bool:
    """Runs the event insert (if any) and the move; True when the status moved. When it did
    not, the row is touched."""
    db = connections[DEFAULT_DB_ALIAS]
    postgresql = db.vendor == "postgresql"
    update, values = _update(move, now, message_id, returning="1" if postgresql else "")
    moves = bool(move.move_from)
    if postgresql:
        # One statement: the event's insert rides along as a CTE.
        prefix = f"WITH event AS ({_insert_sql()}) " if event else ""
        with db.cursor() as cursor:
            cursor.execute(prefix + update, [*(event or []), *values])
            moved = moves and cursor.fetchone() is not None
    else:
        with transaction.atomic(), db.cursor() as cursor:
            if event:
                cursor.execute(_insert_sql(), event)
            cursor.execute(update, values)
            moved = moves and cursor.rowcount == 1
    if moves and not moved:
        _touch(move, now, message_id)
    return moved


def _touch(move: StatusMove, now: Any, message_id: int) -> None:
    """``updated_at`` and the SID of a message whose status the callback did not move."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(*_update(move, now, message_id, touch=True))


def callback_write(
    *,
    message_id: int,
    move: StatusMove,
    params: Mapping[str, str],
    callback_key: str,
    announce_to: int | None = None,
) -> bool:
    """Records the event once (a repeated callback is one event) and moves the status; True
    when this callback moved it. ``announce_to``: the organization, when an outbound webhook
    wants ``message.status_changed``: a move records it in the same transaction."""
    db = connections[DEFAULT_DB_ALIAS]
    now = db.ops.adapt_datetimefield_value(timezone.now())
    payload = db.ops.adapt_json_value(dict(params), None)
    event: list[Any] = [message_id, move.status, move.error_code, payload, callback_key, now]
    if announce_to is None or not move.move_from:  # a status we do not track announces nothing
        return _write(move, now, message_id, event)
    if db.vendor != "postgresql":
        with transaction.atomic():
            moved = _write(move, now, message_id, event)
            if moved:
                messages_status_record(organization_id=announce_to, message_ids=[message_id])
        return moved
    update_sql, values = _update(move, now, message_id, returning=f"{_table(Message)}.*")
    outbox, outbox_params = snapshot_ctes(
        source="announced",
        row=_snapshot_sql(),
        organization_id=announce_to,
        type=STATUS_CHANGED,
        kind="message",
        now=now,
    )
    sql = (
        f"WITH event AS ({_insert_sql()}), announced AS ({update_sql}), {outbox}"
        " SELECT 1 FROM announced"
    )
    db.ensure_connection()
    # Prepared on the server (Django's cursors bind on the client, which cannot): planning
    # these five CTEs took 0.5 ms of each callback, more than running them.
    with psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, [*event, *values, *outbox_params], prepare=True)
        moved = cursor.fetchone() is not None
    if moved:
        wake_on_commit()
    else:
        _touch(move, now, message_id)
    return moved


@cache
def _snapshot_sql() -> str:
    """The moved row as JSON, with its contact's public id (what the API shows)."""
    contact, pk = _table(Contact), _column(Contact, "id")
    return (
        "to_jsonb(announced) || jsonb_build_object('contact_public_id',"
        f" (SELECT {_column(Contact, 'public_id')} FROM {contact}"
        f" WHERE {contact}.{pk} = announced.{_column(Message, 'contact')}))"
    )


def status_move(*, message_id: int, move: StatusMove) -> bool:
    """Moves the status forward only, without an event (the caller records its own); True
    when it moved."""
    db = connections[DEFAULT_DB_ALIAS]
    now = db.ops.adapt_datetimefield_value(timezone.now())
    return _write(move, now, message_id, None)
