from collections import Counter
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from connections.crypto import DecryptionError, EncryptedTextField, reencrypt
from tenants.audit.models import Action, TargetType
from tenants.audit.services import Target, audit_record
from tenants.models import Organization

BATCH_SIZE = 500


def organization_path(model: type[models.Model]) -> str | None:
    """How a row of ``model`` reaches its organization's id (directly or through one
    foreign key), for the audit log; None for a model that belongs to none."""
    foreign_keys = [f for f in model._meta.fields if isinstance(f, models.ForeignKey)]
    for field in foreign_keys:
        if field.related_model is Organization:
            return field.attname
    for field in foreign_keys:
        related = field.related_model
        if isinstance(related, type) and any(
            isinstance(f, models.ForeignKey) and f.related_model is Organization
            for f in related._meta.fields
        ):
            return f"{field.name}__organization_id"
    return None


def audit_rotations(rows: Counter[int]) -> None:
    """One event per organization whose secrets were re-encrypted, by the operator, written
    once every batch committed: a run stopped half-way records nothing, and running it again
    (which is safe) records it."""
    with transaction.atomic():
        for organization in Organization.objects.filter(pk__in=rows).order_by("pk"):
            audit_record(
                organization=organization,
                action=Action.ENCRYPTION_KEYS_ROTATED,
                target=Target.of(TargetType.ORGANIZATION, organization, organization.name),
                changes={"secrets_reencrypted": {"before": None, "after": rows[organization.pk]}},
            )


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS. "
        "Afterwards the other keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        by_organization: Counter[int] = Counter()
        for model in apps.get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            path = organization_path(model)
            count = 0
            last_pk: Any = None
            while True:
                batch = model._default_manager.order_by("pk")
                if last_pk is not None:
                    batch = batch.filter(pk__gt=last_pk)
                rows = list(batch.values("pk", *fields, *([path] if path else []))[:BATCH_SIZE])
                if not rows:
                    break
                with transaction.atomic():
                    for row in rows:
                        changes = {f: reencrypt(row[f]) for f in fields if row[f]}
                        if changes:
                            model._default_manager.filter(pk=row["pk"]).update(**changes)
                            count += 1
                            if path and row[path] is not None:
                                by_organization[row[path]] += 1
                last_pk = rows[-1]["pk"]
            self.stdout.write(f"{model._meta.label}: {count} row(s) re-encrypted")
            total += count
        audit_rotations(by_organization)
        self.stdout.write(f"Done: {total} row(s) now use the first key.")

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except DecryptionError as exc:
            raise CommandError(str(exc)) from exc
