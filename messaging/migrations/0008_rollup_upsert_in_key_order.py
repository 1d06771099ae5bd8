"""The rollup's trigger function upserts in the key's order (``rollup_sql._upsert_grouped``),
so that concurrent writers lock the rollup rows in the same order and cannot deadlock."""

from django.db import migrations

from messaging import rollup_sql


class Migration(migrations.Migration):
    dependencies = [("messaging", "0007_message_rollup")]

    operations = [
        # Backwards it keeps the new function: the order changes no count.
        migrations.RunPython(rollup_sql.replace_function, migrations.RunPython.noop),
    ]
