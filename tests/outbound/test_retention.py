"""Events and their attempts go after 30 days (never one still pending); the signing secrets
are re-encrypted with the other secrets by rotate_encryption_keys."""

from __future__ import annotations

import datetime
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from tenants.outbound.models import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tenants.outbound.services.retention import webhook_events_purge
from tests.outbound.conftest import make_endpoint, record_event

pytestmark = pytest.mark.django_db


def test_events_over_30_days_old_are_deleted_with_their_attempts(personas):
    make_endpoint(personas.org)
    old, kept, waiting = (record_event(personas.org, data={"n": n}) for n in range(3))
    long_ago = timezone.now() - datetime.timedelta(days=31)
    WebhookEvent.objects.filter(pk__in=[old.event_id, waiting.event_id]).update(created_at=long_ago)
    WebhookDelivery.objects.filter(pk__in=[old.pk, kept.pk]).update(state=DeliveryState.SUCCEEDED)
    assert webhook_events_purge() == 1
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {
        kept.event_id,
        waiting.event_id,
    }
    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()


def test_rotating_the_encryption_keys_re_encrypts_the_signing_secrets(personas, settings):
    endpoint, secret = make_endpoint(personas.org)
    before = endpoint.secret_encrypted
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *settings.FIELD_ENCRYPTION_KEYS]):
        call_command("rotate_encryption_keys", stdout=io.StringIO())
        endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk)
        assert endpoint.secret_encrypted != before
        assert endpoint.secrets()[0].reveal() == secret
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert endpoint.secrets()[0].reveal() == secret


def test_deleting_the_organization_purges_its_endpoints_events_and_attempts(personas):
    from tenants.actor import Actor
    from tenants.services.organizations import organization_purge, organization_request_deletion

    make_endpoint(personas.org)
    record_event(personas.org)
    theirs, _ = make_endpoint(personas.other_org)
    organization_request_deletion(
        organization=personas.org,
        by=Actor.for_membership(personas.membership("owner")),
        confirmation=personas.org.name,
    )
    counts = organization_purge(organization_id=personas.org.pk)
    assert counts["outbound.WebhookDelivery"] == 1
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert not WebhookEvent.objects.exists()
