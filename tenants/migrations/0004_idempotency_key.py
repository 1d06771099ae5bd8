# The idempotency keys, moved here from messaging with their table (messaging_idempotencykey).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_organization_api_rate_limit"),
        ("messaging", "0006_idempotency_key_to_tenants"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("key", models.CharField(max_length=200)),
                        ("request_hash", models.CharField(max_length=64)),
                        ("response_status", models.PositiveSmallIntegerField()),
                        ("response_body", models.JSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="tenants.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "messaging_idempotencykey",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("organization", "key"), name="idempotency_key_once"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
