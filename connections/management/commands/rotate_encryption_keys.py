from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from connections.crypto import DecryptionError, EncryptedTextField, reencrypt

BATCH_SIZE = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS. "
        "Afterwards the other keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            count = 0
            last_pk: Any = None
            while True:
                batch = model._default_manager.order_by("pk")
                if last_pk is not None:
                    batch = batch.filter(pk__gt=last_pk)
                rows = list(batch.values("pk", *fields)[:BATCH_SIZE])
                if not rows:
                    break
                with transaction.atomic():
                    for row in rows:
                        changes = {f: reencrypt(row[f]) for f in fields if row[f]}
                        if changes:
                            model._default_manager.filter(pk=row["pk"]).update(**changes)
                            count += 1
                last_pk = rows[-1]["pk"]
            self.stdout.write(f"{model._meta.label}: {count} row(s) re-encrypted")
            total += count
        self.stdout.write(f"Done: {total} row(s) now use the first key.")

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except DecryptionError as exc:
            raise CommandError(str(exc)) from exc
