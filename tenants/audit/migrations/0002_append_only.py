"""Audit events are append-only in SQL too.

PostgreSQL: a trigger refuses every UPDATE (except setting the actor to NULL, which deleting
a user or an API key does) and the DELETE of an event younger than 730 days, unless its
organization's deletion was requested (the purge). SQLite: a trigger refuses the same
UPDATEs; DELETE is left to the model's guards, because Django's test database flush empties
SQLite tables with DELETE (on PostgreSQL it uses TRUNCATE, which fires no row trigger).
"""

from django.db import migrations

COLUMNS = (
    "id",
    "public_id",
    "organization_id",
    "at",
    "action",
    "actor_type",
    "actor_label",
    "address",
    "target_type",
    "target_id",
    "target_label",
    "changes",
)
ACTORS = ("actor_user_id", "actor_api_key_id")


def _row(prefix: str) -> str:
    return ", ".join(f"{prefix}.{column}" for column in COLUMNS)


# Built from the constants above only: no outside value reaches this SQL.
POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF ({_row("NEW")}) IS NOT DISTINCT FROM ({_row("OLD")})
           {" ".join(f"AND (NEW.{a} IS NULL OR NEW.{a} = OLD.{a})" for a in ACTORS)}
        THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit events are append-only: UPDATE refused';
      END IF;
      IF OLD.at < now() - interval '730 days' OR EXISTS (
        SELECT 1 FROM tenants_organization o
        WHERE o.id = OLD.organization_id AND o.deletion_requested_at IS NOT NULL
      ) THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit events are append-only: DELETE of an event younger than 730 days refused';
    END
    $$
    """,  # noqa: S608
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]
_SAME = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in COLUMNS)
_ACTORS = " AND ".join(f"(NEW.{a} IS NULL OR NEW.{a} IS OLD.{a})" for a in ACTORS)
SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent "
    f"WHEN NOT ({_SAME} AND {_ACTORS}) "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_event_no_update"]


def run(by_vendor):
    def apply(apps, schema_editor):
        for statement in by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial"), ("tenants", "0004_idempotency_key")]

    operations = [
        migrations.RunPython(
            run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            run({"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}),
            elidable=False,
        )
    ]
