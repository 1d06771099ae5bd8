"""Set-wise inserts without model instances or signals, for the rooms that write thousands
of rows at a time (a fan-out's messages and events, an automation's enrolments and step
ledger, an import's contacts, tags and report): ``bulk_create``'s work per object and per
value, and psycopg's quoting of every parameter on the client, cost more than the statement.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection as db
from django.db.models import Field, Model


def insert(
    model: type[Model],
    prototype: Model,
    varying: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: Sequence[str] = (),
    ignore_conflicts: bool = False,
) -> list[tuple[Any, ...]]:
    """Inserts ``rows`` of ``model``: the fields ``varying`` (attribute names) from each row,
    every other field as on ``prototype`` (its defaults; ``auto_now`` stamps taken now), given
    once. Returns the ``returning`` columns of each row inserted, in no particular order;
    with ``ignore_conflicts`` a row a unique constraint refuses is left out, silently.

    No model instance and no signal: for a fan-out's chunk, ``bulk_create``'s work per object
    and per value costs more than the statement. On PostgreSQL one statement whatever the
    number of rows: ``INSERT … SELECT`` from the rows passed as one JSON array, each value cast
    to its column's type (a ``VALUES`` list of thousands of parameters is slow to pass and to
    plan, and arrays for ``unnest`` are slow to build); elsewhere a multi-row ``VALUES``, in
    as many statements as the database's limit on parameters needs (SQLite).
    """
    if not rows:
        return []
    every = {f.attname: f for f in model._meta.concrete_fields}
    fields = {name: f for name, f in every.items() if not f.primary_key}
    constant = [f for name, f in fields.items() if name not in varying]
    values = [f.get_db_prep_save(f.pre_save(prototype, True), db) for f in constant]
    quote = db.ops.quote_name
    columns = [f.column for f in constant] + [fields[name].column for name in varying]
    # Names from the model, quoted; every value is a parameter.
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))})"
    back = ", ".join(quote(every[name].column) for name in returning)
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    tail += f" RETURNING {back}" if back else ""
    statements: list[tuple[str, list[Any]]] = []
    if db.vendor == "postgresql":

        def kind(f: Field[Any, Any]) -> str:
            return str(f.db_type(db)).split("(")[0]  # varchar, not varchar(20): no truncation

        def taken(i: int, f: Field[Any, Any]) -> str:
            if f.get_internal_type() == "JSONField":
                return f"NULLIF((r->{i})::jsonb, 'null')"  # None is SQL's NULL, as Django saves it
            return f"(r->>{i})::{kind(f)}"

        given = [f"(%s)::{kind(f)}" for f in constant]
        given += [taken(i, fields[name]) for i, name in enumerate(varying)]
        sql = f"{head} SELECT {', '.join(given)} FROM json_array_elements(%s) AS r{tail}"  # noqa: S608
        statements.append((sql, [*values, json.dumps(rows, default=json_value)]))
    else:
        prepare = [fields[name].get_db_prep_save for name in varying]
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        per = max(1, (db.features.max_query_params or 65_535) // len(columns))
        for start in range(0, len(rows), per):
            part = rows[start : start + per]
            params: list[Any] = []
            for row in part:
                params += values
                params += [p(value, db) for p, value in zip(prepare, row, strict=True)]
            statements.append((f"{head} VALUES {', '.join([one] * len(part))}{tail}", params))
    found: list[tuple[Any, ...]] = []
    with db.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if back:
                found += cursor.fetchall()
    return found


def json_value(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()  # with its offset: read back as the same instant
    raise TypeError(f"{type(value).__name__} is not written by insert")
