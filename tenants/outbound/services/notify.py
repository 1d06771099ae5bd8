"""The e-mail to an organization's owners and admins when its endpoint was disabled."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from tenants.models import Membership, Role
from tenants.outbound.models import WebhookEndpoint

logger = logging.getLogger(__name__)


def endpoint_disabled_notify(*, endpoint_id: int) -> int:
    """Mails the owners and admins; how many were mailed. A mail server that fails is
    logged: the endpoint's page says the same."""
    endpoint = WebhookEndpoint.objects.select_related("organization").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.enabled:
        return 0
    organization = endpoint.organization
    recipients = sorted(
        Membership.objects.filter(
            organization=organization, role__in=[Role.OWNER, Role.ADMIN], user__is_active=True
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return 0
    page = settings.PUBLIC_BASE_URL + reverse("webhook_endpoint", args=[endpoint.public_id])
    try:
        send_mail(
            subject=f"Webhook endpoint disabled for {organization.name} on SMS Hub",
            message=(
                f"SMS Hub stopped posting events to {endpoint.url} for {organization.name}.\n\n"
                f"{endpoint.disabled_reason}\n\n"
                "Events from now on are not sent to it until it is enabled again. Once the "
                f"receiver answers with a 2xx status, enable it on its page:\n{page}"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning(
            "webhook disabled e-mail not sent: %s: %s", endpoint.public_id, type(exc).__name__
        )
        return 0
    return len(recipients)
