"""``Idempotency-Key`` for the API: the first answer is kept 24 hours and returned again.

The key row is written in the same transaction as what the request makes, so a key never
outlives a rolled-back request, and a concurrent duplicate waits on the key's unique index
until the first request commits, then gets its answer.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.crypto import decrypt, encrypt
from tenants.errors import ConflictError
from tenants.models import IdempotencyKey, Organization

KEEP = datetime.timedelta(hours=24)
SEALED = "sealed"  # the one key of a stored answer kept encrypted


def request_fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(
    *,
    organization: Organization,
    key: str,
    data: Any,
    run: Callable[[], tuple[int, Any]],
    sealed: bool = False,
) -> tuple[int, Any]:
    """Runs ``run`` once per (organization, key); later calls get its (status, body).
    ``sealed``: the answer holds a secret shown once (a new API key), so it is kept
    encrypted, as every stored secret is."""
    fingerprint = request_fingerprint(data)
    with transaction.atomic():
        IdempotencyKey.objects.filter(
            organization=organization, key=key, created_at__lt=timezone.now() - KEEP
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    organization=organization,
                    key=key,
                    request_hash=fingerprint,
                    response_status=0,
                    response_body={},
                )
        except IntegrityError:
            record = None
        if record is None:
            first = IdempotencyKey.objects.get(organization=organization, key=key)
            if first.request_hash != fingerprint:
                raise ConflictError(
                    "This Idempotency-Key was used with a different request.",
                    code="idempotency_key_reused",
                )
            stored = first.response_body
            if isinstance(stored, dict) and set(stored) == {SEALED}:
                stored = json.loads(decrypt(stored[SEALED]).reveal())
            return first.response_status, stored
        status, body = run()
        kept = {SEALED: encrypt(json.dumps(body, default=str))} if sealed else body
        record.response_status, record.response_body = status, kept
        record.save(update_fields=["response_status", "response_body"])
        return status, body


def idempotency_keys_purge() -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted
