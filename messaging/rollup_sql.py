"""The message rollup's triggers: ``MessageRollup`` kept by the database itself.

Every path that writes messages (the send service's set-wise ``INSERT … SELECT``, the send
task, the status callback's one statement, the sweeper, retention, a template deleted and its
messages' ``template_id`` set to NULL) changes the rollup in its own transaction, without a
line of code on those paths and without a count that a crash between two writes could lose.
Counting in the services instead would mean a second write on every one of them, each a
chance to forget one.

- **PostgreSQL**: statement-level triggers with transition tables, so a chunk of 1,000 inserted
  messages is one grouped upsert, not 1,000. An UPDATE counts only the rows whose key changed
  (a callback that only stamps ``updated_at`` writes nothing). Hours are truncated in UTC
  whatever the session's time zone.
- **SQLite** (development and the default test run): row-level triggers, an ``INSERT OR
  IGNORE`` of the key then an ``UPDATE`` of its counts.

The key: the organization, the hour the message was created (UTC), direction, automation (the
public id of the automation that sent it, else ""), template (0: none), status, error code
(0: none), suppressed reason, whether Twilio took it (a SID) and a shard (id modulo 4). Counts:
messages and segments.

``rollup_rebuild`` recounts an organization (or all) from the messages: the command
``rollups_rebuild`` runs it, and the migration that installs the triggers fills the table.
"""

# Every name below comes from the models and is quoted by the backend; no value is formatted
# into SQL.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import Field

from messaging.models import ROLLUP_KEY, Message, MessageRollup

SHARDS = 4


def _column(name: str) -> str:
    field = MessageRollup._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:  # the key is of concrete fields
        raise TypeError(f"{name} is not a column of the rollup")
    return field.column


KEY = tuple(_column(name) for name in ROLLUP_KEY)
# The message columns a key is made of: an UPDATE of none of them changes no count.
WATCHED = (
    "organization_id",
    "created_at",
    "direction",
    "source",
    "source_ref",
    "template_id",
    "status",
    "error_code",
    "suppressed_reason",
    "sid",
    "segments",
)


def _names() -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(Message._meta.db_table), quote(MessageRollup._meta.db_table)


def _key_of(row: str, vendor: str, *, percent: str = "%") -> list[str]:
    """The key's values for the message ``row`` (an alias, or NEW/OLD), in KEY's order
    (``percent``: "%%" in a statement run with parameters)."""
    if vendor == "postgresql":
        hour = f"date_trunc('hour', {row}.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    else:
        hour = f"strftime('%Y-%m-%d %H:00:00', {row}.created_at)"
    return [
        f"{row}.organization_id",
        hour,
        f"{row}.direction",
        f"CASE WHEN {row}.source = 'automation' THEN {row}.source_ref ELSE '' END",
        f"COALESCE({row}.template_id, 0)",
        f"{row}.status",
        f"COALESCE({row}.error_code, 0)",
        f"{row}.suppressed_reason",
        f"({row}.sid IS NOT NULL)",
        f"({row}.id {percent} {SHARDS})",
    ]


def _upsert_grouped(select: str) -> str:
    """Adds the (key, messages, segments) rows of ``select`` to the rollup (PostgreSQL), in
    the key's order: every writer then locks the rollup rows it changes in the same order. In
    the order a hash aggregate gives, a send task recording a SID (submitting -1, queued +1)
    and a status callback for another message of the same shard moving it the same way took
    the two rows in opposite orders and deadlocked (``bench.send_pipeline``'s rate-limited
    sender, 2026-12-03: the task failed and its batch's other messages were left waiting)."""
    _, rollup = _names()
    columns = ", ".join(KEY)
    keys = ", ".join(f"k{n}" for n in range(len(KEY)))
    return (
        f"INSERT INTO {rollup} AS rollup ({columns}, messages, segments)"
        f" SELECT {keys}, sum(d), sum(s) FROM ({select}) AS delta GROUP BY {keys} ORDER BY {keys}"
        f" ON CONFLICT ({columns}) DO UPDATE SET"
        " messages = rollup.messages + EXCLUDED.messages,"
        " segments = rollup.segments + EXCLUDED.segments"
    )


def _side(row: str, sign: str, source: str, where: str = "") -> str:
    keys = ", ".join(f"{value} AS k{n}" for n, value in enumerate(_key_of(row, "postgresql")))
    return f"SELECT {keys}, {sign}1 AS d, {sign}{row}.segments AS s FROM {source} {where}"


def _postgresql_install() -> list[str]:
    message, _ = _names()
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in WATCHED)
    moved = f"old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE {changed}"
    body = f"""
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_upsert_grouped(_side("n", "", "new_rows AS n"))};
            ELSIF TG_OP = 'DELETE' THEN
                {_upsert_grouped(_side("o", "-", "old_rows AS o"))};
            ELSE
                {_upsert_grouped(_side("o", "-", moved) + " UNION ALL " + _side("n", "", moved))};
            END IF;
            RETURN NULL;
        END
    """
    statements = [
        f"CREATE OR REPLACE FUNCTION messaging_rollup_apply() RETURNS trigger"
        f" LANGUAGE plpgsql AS $rollup$ {body} $rollup$"
    ]
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        statements.append(
            f"CREATE TRIGGER messaging_rollup_{event.lower()} AFTER {event} ON {message}"
            f" REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION messaging_rollup_apply()"
        )
    return statements


def _sqlite_change(row: str, sign: str) -> str:
    _, rollup = _names()
    values = _key_of(row, "sqlite")
    match = " AND ".join(f"{column} = {value}" for column, value in zip(KEY, values, strict=True))
    return (
        f"INSERT OR IGNORE INTO {rollup} ({', '.join(KEY)}, messages, segments)"
        f" VALUES ({', '.join(values)}, 0, 0);"
        f" UPDATE {rollup} SET messages = messages {sign} 1,"
        f" segments = segments {sign} {row}.segments WHERE {match};"
    )


def _sqlite_install() -> list[str]:
    message, _ = _names()
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    return [
        f"CREATE TRIGGER messaging_rollup_insert AFTER INSERT ON {message}"
        f" BEGIN {_sqlite_change('NEW', '+')} END",
        f"CREATE TRIGGER messaging_rollup_delete AFTER DELETE ON {message}"
        f" BEGIN {_sqlite_change('OLD', '-')} END",
        f"CREATE TRIGGER messaging_rollup_update AFTER UPDATE ON {message} WHEN {changed}"
        f" BEGIN {_sqlite_change('OLD', '-')} {_sqlite_change('NEW', '+')} END",
    ]


def install_statements(vendor: str) -> list[str]:
    return _postgresql_install() if vendor == "postgresql" else _sqlite_install()


def uninstall_statements(vendor: str) -> list[str]:
    message, _ = _names()
    drops = [
        f"DROP TRIGGER IF EXISTS messaging_rollup_{event} ON {message}"
        if vendor == "postgresql"
        else f"DROP TRIGGER IF EXISTS messaging_rollup_{event}"
        for event in ("insert", "update", "delete")
    ]
    if vendor == "postgresql":
        drops.append("DROP FUNCTION IF EXISTS messaging_rollup_apply()")
    return drops


def rollup_rebuild(organization_id: int | None = None) -> int:
    """Recounts the rollup of one organization (or every one) from its messages, in one
    transaction; how many rollup rows it has now. On PostgreSQL the rollup is locked against
    writers meanwhile (their triggers wait: seconds for a million messages)."""
    message, rollup = _names()
    values = _key_of("m", connection.vendor, percent="%%")
    where, params = (
        ("WHERE m.organization_id = %s", [organization_id]) if organization_id else ("", [])
    )
    group = ", ".join(str(n + 1) for n in range(len(KEY)))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {rollup} IN SHARE ROW EXCLUSIVE MODE")
        delete_where = "WHERE organization_id = %s" if organization_id else ""
        cursor.execute(f"DELETE FROM {rollup} {delete_where}", params)
        cursor.execute(
            f"INSERT INTO {rollup} ({', '.join(KEY)}, messages, segments)"
            f" SELECT {', '.join(values)}, count(*), sum(m.segments) FROM {message} AS m"
            f" {where} GROUP BY {group}",
            params,
        )
        cursor.execute(f"SELECT count(*) FROM {rollup} {delete_where}", params)
        return int(cursor.fetchone()[0])


def _run(schema_editor: Any, statements: list[str]) -> None:
    for statement in statements:
        schema_editor.execute(statement, params=None)  # no placeholders: "%" is modulo


def install(apps: Any, schema_editor: Any) -> None:
    """The migration's forward step: the triggers, then the rollup filled from the messages."""
    _run(schema_editor, install_statements(schema_editor.connection.vendor))
    rollup_rebuild()


def replace_function(apps: Any, schema_editor: Any) -> None:
    """A later migration's step: the trigger function as this module writes it now (the
    triggers call it by name, so they stay). Nothing to do on SQLite, whose triggers hold
    their own statements."""
    if schema_editor.connection.vendor == "postgresql":
        _run(schema_editor, _postgresql_install()[:1])


def uninstall(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, uninstall_statements(schema_editor.connection.vendor))
