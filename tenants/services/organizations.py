from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from tenants.actor import Actor
from tenants.audit.services import audit_events_purge
from tenants.errors import AccessDenied, ApplicationError
from tenants.models import ORGANIZATION_SETTINGS, ApiKey, Membership, Organization, Role, User

logger = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 1000


def _full_clean(organization: Organization, exclude: list[str] | None = None) -> None:
    try:
        organization.full_clean(exclude=exclude)
    except ValidationError as exc:
        fields = {field: list(messages) for field, messages in exc.message_dict.items()}
        raise ApplicationError("Some settings are not valid.", fields=fields) from exc


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_create(
    *, name: str, owner: User, time_zone: str = "UTC", default_country: str = "US"
) -> Organization:
    name = name.strip()
    if not name:
        raise ApplicationError.for_field("name", "Give the organization a name.")
    organization = Organization(
        name=name, slug=_unique_slug(name), time_zone=time_zone, default_country=default_country
    )
    _full_clean(organization)
    organization.save()
    Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    logger.info("organization created: %s by user %s", organization.public_id, owner.public_id)
    return organization


def organization_update(*, organization: Organization, data: dict[str, Any]) -> Organization:
    """Changes the settings in ``data`` (already validated by a form or serializer)."""
    unknown = set(data) - set(ORGANIZATION_SETTINGS)
    if unknown:
        raise ApplicationError(f"These settings cannot be changed: {', '.join(sorted(unknown))}.")
    for field, value in data.items():
        setattr(organization, field, value)
    _full_clean(organization, exclude=["slug"])
    organization.save(update_fields=[*data, "updated_at"])
    return organization


@transaction.atomic
def organization_request_deletion(
    *, organization: Organization, by: Actor, confirmation: str
) -> None:
    """Hides the organization from everyone now; a background task removes its data."""
    if by.role != Role.OWNER or by.organization.pk != organization.pk:
        raise AccessDenied("Only an owner can delete the organization.")
    if confirmation.strip() != organization.name:
        raise ApplicationError.for_field(
            "confirmation", f"Type the organization's name, “{organization.name}”, to confirm."
        )
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    if locked.deletion_requested_at is not None:
        return
    now = timezone.now()
    locked.deletion_requested_at = now
    locked.save(update_fields=["deletion_requested_at"])
    ApiKey.objects.filter(organization=locked, revoked_at__isnull=True).update(revoked_at=now)
    logger.info("organization deletion requested: %s by %s", locked.public_id, by)

    from tenants.tasks import organization_purge  # tasks import services, not the reverse

    transaction.on_commit(lambda: organization_purge.delay(locked.pk))


def _tenant_models() -> list[type[models.Model]]:
    """Every model that belongs to an organization, those that point at others first.

    Deleting in this order, in batches, means no single DELETE cascades into a huge number of
    rows: by the time a contact is deleted, its messages are already gone.
    """
    owned = [
        model
        for model in apps.get_models()
        if any(
            isinstance(field, models.ForeignKey) and field.related_model is Organization
            for field in model._meta.get_fields()
        )
    ]
    ordered: list[type[models.Model]] = []

    def visit(model: type[models.Model], seen: set[type[models.Model]]) -> None:
        if model in ordered or model in seen:
            return
        seen.add(model)
        for relation in model._meta.related_objects:
            if relation.related_model in owned:
                visit(relation.related_model, seen)  # type: ignore[arg-type]
        ordered.append(model)

    for model in owned:
        visit(model, set())
    return ordered


def _delete_in_batches(queryset: models.QuerySet[Any]) -> int:
    total = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:PURGE_BATCH_SIZE])
        if not ids:
            return total
        with transaction.atomic():
            deleted, _ = queryset.model._default_manager.filter(pk__in=ids).delete()
        total += deleted


def organization_purge(*, organization_id: int) -> dict[str, int]:
    """Deletes an organization whose deletion was requested, batch by batch. Re-runnable."""
    organization = Organization.objects.filter(
        pk=organization_id, deletion_requested_at__isnull=False
    ).first()
    if organization is None:
        return {}
    counts: dict[str, int] = {}
    # The audit log refuses deletes but through its own purge (its trigger checks that the
    # organization's deletion was requested): its rows go first, the generic pass finds none.
    if audited := audit_events_purge(organization=organization):
        counts["audit.AuditEvent"] = audited
    for model in _tenant_models():
        fields: Iterable[str] = (
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, models.ForeignKey) and f.related_model is Organization
        )
        for field in fields:
            deleted = _delete_in_batches(model._default_manager.filter(**{field: organization}))
            if deleted:
                counts[model._meta.label] = counts.get(model._meta.label, 0) + deleted
    organization.delete()
    logger.info("organization purged: %s %s", organization.public_id, counts)
    return counts
