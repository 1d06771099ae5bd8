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
from messaging.models import Message, MessageEvent
from messaging.statuses import allowed_before, explain


@dataclass(frozen=True)
class CallbackTarget:
    """What a status callback needs to know about its message, read in one query."""

    message_id: int
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
        f"SELECT m.{_column(Message, 'id')}, m.{m}, c.{_column(Connection, 'last_webhook_at')},"
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
    message_id, connection_id, last_webhook_at, token = row
    if last_webhook_at is not None and timezone.is_naive(last_webhook_at):
        last_webhook_at = last_webhook_at.replace(tzinfo=UTC)  # SQLite keeps UTC, naive
    return CallbackTarget(message_id, connection_id, last_webhook_at, token)


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
def _update_sql(*, sid: bool, move_from: int, error: bool) -> str:
    """Forward only, in the statement itself: a repeated or late callback changes nothing.

    One statement per shape: with a SID or not, how many statuses the message may move from
    (0: a status we do not track, only the SID is kept), with an error or not."""
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
    return f"UPDATE {_table(Message)} SET {', '.join(sets)} WHERE {_column(Message, 'id')} = %s"


def _update(move: StatusMove, now: Any, message_id: int) -> tuple[str, list[Any]]:
    error = move.error_code is not None
    sql = _update_sql(sid=bool(move.sid), move_from=len(move.move_from), error=error)
    values: list[Any] = [now]
    if move.sid:
        values.append(move.sid)
    if move.move_from:
        changes = (move.status, move.error_code, move.error_message) if error else (move.status,)
        for value in changes:
            values += [*move.move_from, value]
    values.append(message_id)
    return sql, values


def callback_write(
    *, message_id: int, move: StatusMove, params: Mapping[str, str], callback_key: str
) -> None:
    """Records the event once (a repeated callback is one event) and moves the status."""
    db = connections[DEFAULT_DB_ALIAS]
    now = db.ops.adapt_datetimefield_value(timezone.now())
    payload = db.ops.adapt_json_value(dict(params), None)
    event: list[Any] = [message_id, move.status, move.error_code, payload, callback_key, now]
    update, values = _update(move, now, message_id)
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute(f"WITH event AS ({_insert_sql()}) {update}", [*event, *values])
        return
    with transaction.atomic(), db.cursor() as cursor:
        cursor.execute(_insert_sql(), event)
        cursor.execute(update, values)


def status_move(*, message_id: int, move: StatusMove) -> int:
    """Moves the status forward only, without an event (the caller records its own)."""
    db = connections[DEFAULT_DB_ALIAS]
    update, values = _update(move, db.ops.adapt_datetimefield_value(timezone.now()), message_id)
    with db.cursor() as cursor:
        cursor.execute(update, values)
        return int(cursor.rowcount)
