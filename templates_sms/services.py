from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from templates_sms.media import media_url_check
from templates_sms.models import SmsTemplate
from templates_sms.renderer import template_validate
from templates_sms.segments import MAX_TEXT
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Organization, User
from tenants.types import UNSET, Unset, given

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Saved:
    template: SmsTemplate
    warnings: list[str]


def _clean(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    if "name" in data:
        name = " ".join(str(data["name"] or "").split())
        if not name:
            errors["name"] = ["Give the template a name."]
        elif len(name) > 120:
            errors["name"] = ["At most 120 characters."]
        cleaned["name"] = name
    if "body" in data:
        body = str(data["body"] or "").replace("\r\n", "\n").strip()
        if not body:
            errors["body"] = ["Write the message."]
        elif len(body) > MAX_TEXT:
            errors["body"] = [f"At most {MAX_TEXT:,} characters (this has {len(body):,})."]
        else:
            try:
                template_validate(body)
            except ApplicationError as exc:
                errors.update(exc.fields)
        cleaned["body"] = body
    if "media_url" in data:
        url = str(data["media_url"] or "").strip()
        if url:
            try:
                warning = media_url_check(url)
            except ApplicationError as exc:
                errors.update(exc.fields)
            else:
                if warning:
                    warnings.append(warning)
        cleaned["media_url"] = url
    if "append_opt_out_footer" in data:
        cleaned["append_opt_out_footer"] = bool(data["append_opt_out_footer"])
    if errors:
        raise ApplicationError("Some template details are not valid.", fields=errors)
    return cleaned, warnings


def _name_taken(name: str) -> ConflictError:
    message = f"A template named “{name}” already exists."
    return ConflictError(message, code="duplicate_name", fields={"name": [message]})


def template_create(
    *,
    organization: Organization,
    name: str,
    body: str,
    media_url: str = "",
    append_opt_out_footer: bool = True,
    by: User | None = None,
) -> Saved:
    cleaned, warnings = _clean(
        {
            "name": name,
            "body": body,
            "media_url": media_url,
            "append_opt_out_footer": append_opt_out_footer,
        }
    )
    if SmsTemplate.objects.filter(organization=organization, name=cleaned["name"]).exists():
        raise _name_taken(cleaned["name"])
    try:
        with transaction.atomic():
            template = SmsTemplate.objects.create(
                organization=organization, created_by=by, updated_by=by, **cleaned
            )
    except IntegrityError as exc:
        raise _name_taken(cleaned["name"]) from exc
    return Saved(template, warnings)


def template_update(
    *,
    template: SmsTemplate,
    name: str | Unset = UNSET,
    body: str | Unset = UNSET,
    media_url: str | Unset = UNSET,
    append_opt_out_footer: bool | Unset = UNSET,
    by: User | None = None,
) -> Saved:
    """Changes the fields given."""
    cleaned, warnings = _clean(
        given(
            name=name, body=body, media_url=media_url, append_opt_out_footer=append_opt_out_footer
        )
    )
    new_name: str | None = cleaned.get("name")
    if new_name and (
        SmsTemplate.objects.filter(organization_id=template.organization_id, name=new_name)
        .exclude(pk=template.pk)
        .exists()
    ):
        raise _name_taken(new_name)
    for field, value in cleaned.items():
        setattr(template, field, value)
    template.updated_by = by
    try:
        with transaction.atomic():
            template.save(update_fields=[*cleaned, "updated_by", "updated_at"])
    except IntegrityError as exc:  # renamed meanwhile to the same name by another request
        raise _name_taken(template.name) from exc
    return Saved(template, warnings)


def template_duplicate(*, template: SmsTemplate, by: User | None = None) -> SmsTemplate:
    base = f"Copy of {template.name}"[:110].rstrip()
    name, n = base, 1
    while SmsTemplate.objects.filter(organization_id=template.organization_id, name=name).exists():
        n += 1
        name = f"{base} ({n})"
    return SmsTemplate.objects.create(
        organization_id=template.organization_id,
        name=name,
        body=template.body,
        media_url=template.media_url,
        append_opt_out_footer=template.append_opt_out_footer,
        created_by=by,
        updated_by=by,
    )


def template_delete(*, template: SmsTemplate) -> None:
    """Deletes the template, unless a published automation version sends it. Versions never
    change and are never deleted (nor are automations: they are archived), so such a template
    is kept for good; a draft that chooses it does not hold it."""
    try:
        with transaction.atomic():
            template.delete()
    except ProtectedError as exc:
        users = sorted({str(obj) for obj in exc.protected_objects})
        listed = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        raise ConflictError(
            f"“{template.name}” is used by {listed}. A published automation version never "
            "changes, so a template it sends cannot be deleted, even once the automation is "
            "archived.",
            code="template_in_use",
        ) from exc
