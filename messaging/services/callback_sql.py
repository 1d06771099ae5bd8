"""The status callback's read and write, in SQL.

Twilio posts one callback per status of every message, so this is the busiest request the
product serves. Building these statements through the ORM cost more than running them (about
half a millisecond of query compilation each), so they are written out here, once, with the
tables and columns taken from the models. ``tests/messaging/test_status_callbacks.py`` covers
them on SQLite and PostgreSQL (CI).

- The read joins the message to its connection and credentials: one round trip.
- On PostgreSQL the write is one statement (the event's ``INSERT … ON CONFLICT DO NOTHING`` in a
  CTE, then the conditional ``UPDATE``), atomic under autocommit; elsewhere the same two
  statements run in one transaction.
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
def _update_sql(*, sid: bool, move_from: int, error: bool, vendor: str, row: bool = False) -> str:
    """Forward only, in the statement itself: a repeated or late callback changes nothing.

    One statement per shape: with a SID or not, how many statuses the message may move from
    (0: a status we do not track, only the SID is kept), with error columns to set or not
    (an error, or a success that clears a stale one). On PostgreSQL it returns the status the
    row had, read under the row's lock, so that of two racing callbacks only the one that
    moved the status announces it (and with ``row``, the row as it left it); elsewhere the
    caller reads it first, in its transaction."""
    sets = [f"{_column(Message, 'updated_at')} = %s"]
    if sid:
        # Kept even when the callback beats the send task's own answer; never overwritten.
        column = _column(Message, "sid")
        sets.append(f"{column} = COALESCE({column}, %s)")
    if move_from:
        status = _column(Message, "status")
        allowed = f"{status} IN ({', '.join(['%s'] * move_from)})"
        for field in ("status", "error_code", "error_message") if error else ("status",):
            column = _column(Message, field)
            sets.append(f"{column} = CASE WHEN {allowed} THEN %s ELSE {column} END")
    table, pk = _table(Message), _column(Message, "id")
    if vendor != "postgresql":
        return f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s"
    return (
        f"UPDATE {table} SET {', '.join(sets)}"
        f" FROM (SELECT {_column(Message, 'status')} AS old_status FROM {table}"
        f" WHERE {pk} = %s FOR UPDATE) AS old"
        f" WHERE {table}.{pk} = %s RETURNING old.old_status" + (f", {table}.*" if row else "")
    )


def _update(
    move: StatusMove, now: Any, message_id: int, vendor: str, *, row: bool = False
) -> tuple[str, list[Any]]:
    error = move.error_code is not None or (bool(move.move_from) and move.succeeds)
    sql = _update_sql(
        sid=bool(move.sid), move_from=len(move.move_from), error=error, vendor=vendor, row=row
    )
    values: list[Any] = [now]
    if move.sid:
        values.append(move.sid)
    if move.move_from:
        changes = (move.status, move.error_code, move.error_message) if error else (move.status,)
        for value in changes:
            values += [*move.move_from, value]
    values += [message_id, message_id] if vendor == "postgresql" else [message_id]
    return sql, values


@cache
def _status_sql() -> str:
    return (
        f"SELECT {_column(Message, 'status')} FROM {_table(Message)}"
        f" WHERE {_column(Message, 'id')} = %s"
    )


def _write(statements: list[tuple[str, list[Any]]], move: StatusMove, message_id: int) -> bool:
    """Runs the event insert (if any) and the update; True when the status moved."""
    db = connections[DEFAULT_DB_ALIAS]
    *before, (update, values) = statements
    if db.vendor == "postgresql":
        # One statement: the event's insert rides along as a CTE.
        prefix = f"WITH event AS ({before[0][0]}) " if before else ""
        with db.cursor() as cursor:
            cursor.execute(prefix + update, [*(before[0][1] if before else []), *values])
            row = cursor.fetchone()
    else:
        with transaction.atomic(), db.cursor() as cursor:
            for sql, params in before:
                cursor.execute(sql, params)
            cursor.execute(_status_sql(), [message_id])
            row = cursor.fetchone()
            cursor.execute(update, values)
    return row is not None and row[0] in move.move_from


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
    if announce_to is None:
        update = _update(move, now, message_id, db.vendor)
        return _write([(_insert_sql(), event), update], move, message_id)
    if db.vendor != "postgresql":
        with transaction.atomic():
            update = _update(move, now, message_id, db.vendor)
            moved = _write([(_insert_sql(), event), update], move, message_id)
            if moved:
                messages_status_record(organization_id=announce_to, message_ids=[message_id])
        return moved
    update_sql, values = _update(move, now, message_id, db.vendor, row=True)
    outbox, outbox_params = snapshot_ctes(
        source="announced",
        row=_snapshot_sql(),
        organization_id=announce_to,
        type=STATUS_CHANGED,
        kind="message",
        now=now,
    )
    sql = (
        f"WITH event AS ({_insert_sql()}), moved AS ({update_sql}),"
        f" announced AS (SELECT * FROM moved WHERE old_status IN"
        f" ({', '.join(['%s'] * len(move.move_from))})), {outbox}"
        " SELECT old_status FROM moved"
    )
    db.ensure_connection()
    # Prepared on the server (Django's cursors bind on the client, which cannot): planning
    # these five CTEs took 0.5 ms of each callback, more than running them.
    with psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, [*event, *values, *move.move_from, *outbox_params], prepare=True)
        row = cursor.fetchone()
    moved = row is not None and row[0] in move.move_from
    if moved:
        wake_on_commit()
    return moved


@cache
def _snapshot_sql() -> str:
    """The moved row as JSON, with its contact's public id (what the API shows)."""
    contact, pk = _table(Contact), _column(Contact, "id")
    return (
        "to_jsonb(announced) - 'old_status' || jsonb_build_object('contact_public_id',"
        f" (SELECT {_column(Contact, 'public_id')} FROM {contact}"
        f" WHERE {contact}.{pk} = announced.{_column(Message, 'contact')}))"
    )


def status_move(*, message_id: int, move: StatusMove) -> bool:
    """Moves the status forward only, without an event (the caller records its own); True
    when it moved."""
    db = connections[DEFAULT_DB_ALIAS]
    now = db.ops.adapt_datetimefield_value(timezone.now())
    return _write([_update(move, now, message_id, db.vendor)], move, message_id)
