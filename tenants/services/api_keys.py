from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tenants.audit.models import Action, TargetType
from tenants.audit.services import Target, api_key_label, audit_record
from tenants.errors import ApplicationError, ConflictError
from tenants.models import API_KEY_ROLES, ApiKey, Organization, User

logger = logging.getLogger(__name__)

KEY_PREFIX = "smsh"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, organization: Organization, name: str, role: str, by: User | None = None
) -> tuple[ApiKey, str]:
    """Returns the key row and the key itself, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ApplicationError.for_field("name", "Give the key a name, such as “CRM sync”.")
    if role not in API_KEY_ROLES:
        allowed = ", ".join(API_KEY_ROLES)
        raise ApplicationError.for_field("role", f"An API key's role is one of: {allowed}.")
    lookup = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name[:80],
        role=role,
        prefix=lookup,
        key_hash=_hash(secret),
        created_by=by,
    )
    audit_record(
        organization=organization,
        action=Action.API_KEY_CREATED,
        target=Target.of(TargetType.API_KEY, api_key, api_key_label(api_key)),
        changes={"role": {"before": None, "after": role}},
        actor=by,
    )
    logger.info("api key created: %s… in %s", lookup, organization.public_id)
    return api_key, f"{KEY_PREFIX}_{lookup}_{secret}"


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is not None:
        raise ConflictError("This key is already revoked.")
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    audit_record(
        organization=api_key.organization,
        action=Action.API_KEY_REVOKED,
        target=Target.of(TargetType.API_KEY, api_key, api_key_label(api_key)),
    )
    logger.info("api key revoked: %s…", api_key.prefix)
    return api_key


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The live key matching ``raw_key``, or None. The secret is compared in constant time."""
    marker, _, rest = raw_key.partition("_")
    lookup, _, secret = rest.partition("_")
    if marker != KEY_PREFIX or not lookup or not secret:
        return None
    api_key = (
        ApiKey.objects.select_related("organization")
        .filter(
            prefix=lookup,
            revoked_at__isnull=True,
            organization__deletion_requested_at__isnull=True,
        )
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        # At most one write a minute per key, however busy the integration.
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
