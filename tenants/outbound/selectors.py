from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from tenants.models import Organization
from tenants.outbound.models import WebhookDelivery, WebhookEndpoint


def organization_endpoints(organization: Organization) -> QuerySet[WebhookEndpoint]:
    """The endpoints, oldest first, each with its last attempt's time, state and status."""
    last = WebhookDelivery.objects.filter(
        endpoint=OuterRef("pk"), attempted_at__isnull=False
    ).order_by("-created_at", "-pk")  # the index on (endpoint, -created_at)
    return WebhookEndpoint.objects.filter(organization=organization).annotate(
        last_attempt_at=Subquery(last.values("attempted_at")[:1]),
        last_attempt_state=Subquery(last.values("state")[:1]),
        last_attempt_status=Subquery(last.values("status_code")[:1]),
    )


def endpoint_deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's attempts, newest first (a pending one first of all)."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-pk")
    )
