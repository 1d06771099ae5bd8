# The idempotency keys serve every room's API now, so the model moved to tenants (the lowest
# room); its table stays where it is.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0005_message_source_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyKey")],
            database_operations=[],
        ),
    ]
