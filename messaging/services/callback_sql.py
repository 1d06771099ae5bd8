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

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from connections.models import Connection, TwilioCredentials
from messaging.models import Message, MessageEvent, Status
from messaging.statuses import allowed_before, explain

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
def _update_sql(*, sid: bool, move_from: int, error: bool, vendor: str) -> str:
    """Forward only, in the statement itself: a repeated or late callback changes nothing.

    One statement per shape: with a SID or not, how many statuses the message may move from
    (0: a status we do not track, only the SID is kept), with error columns to set or not
    (an error, or a success that clears a stale one). On PostgreSQL it returns the status the
    row had, read under the row's lock, so that of two racing callbacks only the one that
    moved the status announces it; elsewhere the caller reads it first, in its transaction."""
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
        f" WHERE {table}.{pk} = %s RETURNING old.old_status"
    )


def _update(move: StatusMove, now: Any, message_id: int, vendor: str) -> tuple[str, list[Any]]:
    error = move.error_code is not None or (bool(move.move_from) and move.succeeds)
    sql = _update_sql(sid=bool(move.sid), move_from=len(move.move_from), error=error, vendor=vendor)
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
    *, message_id: int, move: StatusMove, params: Mapping[str, str], callback_key: str
) -> bool:
    """Records the event once (a repeated callback is one event) and moves the status; True
    when this callback moved it."""
    db = connections[DEFAULT_DB_ALIAS]
    now = db.ops.adapt_datetimefield_value(timezone.now())
    payload = db.ops.adapt_json_value(dict(params), None)
    event: list[Any] = [message_id, move.status, move.error_code, payload, callback_key, now]
    update = _update(move, now, message_id, db.vendor)
    return _write([(_insert_sql(), event), update], move, message_id)


def status_move(*, message_id: int, move: StatusMove) -> bool:
    """Moves the status forward only, without an event (the caller records its own); True
    when it moved."""
    db = connections[DEFAULT_DB_ALIAS]
    now = db.ops.adapt_datetimefield_value(timezone.now())
    return _write([_update(move, now, message_id, db.vendor)], move, message_id)
