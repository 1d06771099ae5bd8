"""The URL configuration walked route by route, and one object of each kind its routes name.

``routes()`` lists every pattern Django resolves, with its full route text, so a test can
visit (or classify) every page and API route and notice when one is added. ``world_ids()``
builds, inside one organization, an object of each kind a route's keyword arguments name
and answers the ids to fill them with.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from automations.models import AutomationRun, Launch, LaunchKind
from automations.services.automations import automation_create, automation_publish
from contacts.models import ContactImport
from contacts.services.contacts import contact_create
from messaging.models import Message, Status
from templates_sms.services import template_create
from tenants.audit.models import AuditEvent
from tenants.models import Invitation, Organization, Role, User
from tenants.outbound.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tenants.services.api_keys import api_key_create
from tests.factories import make_member

STEP_ID = "s2"
TAG = "vip"
# The keyword arguments ``world_ids`` fills in.
WORLD_KWARGS = frozenset(
    {
        "contact_id",
        "message_id",
        "template_id",
        "automation_id",
        "step_id",
        "launch_id",
        "import_id",
        "endpoint_id",
        "delivery_id",
        "member_id",
        "invitation_id",
        "key_id",
        "event_id",
        "name",
    }
)


@dataclass(frozen=True)
class Route:
    """A resolvable pattern: its full route text (``contacts/<str:contact_id>/``) and view."""

    route: str
    pattern: URLPattern

    @property
    def name(self) -> str | None:
        return self.pattern.name

    @property
    def kwargs(self) -> frozenset[str]:
        """The keyword arguments the route names (the ids its path takes)."""
        return frozenset(self.pattern.pattern.regex.groupindex)

    @property
    def view_class(self) -> type | None:
        """The class behind the view (Django's or DRF's ``as_view()``), if it is one."""
        callback = self.pattern.callback
        found = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        return found if isinstance(found, type) else None


def routes(resolver: URLResolver | None = None, prefix: str = "") -> list[Route]:
    """Every pattern under ``resolver`` (the root URL configuration by default), in order."""
    found: list[Route] = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            found.extend(routes(pattern, prefix + str(pattern.pattern)))
        else:
            found.append(Route(prefix + str(pattern.pattern), pattern))
    return found


def world_ids(organization: Organization, by: User) -> dict[str, str]:
    """One object of each kind a route names, made in ``organization`` (``by`` a member who
    writes automations), as the ids each keyword argument takes."""
    at = datetime.datetime(2026, 3, 8, 6, 30, tzinfo=datetime.UTC)
    domain = f"org{organization.pk}.example.com"
    contact = contact_create(
        organization=organization,
        source="test",
        phone="+14155550123",
        first_name="Ada",
        tags=[TAG],
    )
    message = Message.objects.create(
        organization=organization, body="Hello", to="+14155550123", status=Status.DELIVERED
    )
    template = template_create(organization=organization, name="Welcome", body="Hi!").template
    automation = automation_create(
        organization=organization,
        name="Welcome",
        definition={"trigger": {"type": "manual"}, "steps": [_send(template)]},
        complete=True,
        by=by,
    )
    version = automation_publish(automation=automation, by=by)
    AutomationRun.objects.create(
        organization=organization,
        automation=automation,
        version=version,
        contact=contact,
        occurrence_key="walk",
        state="completed",
    )
    launch = Launch.objects.create(
        organization=organization, automation=automation, kind=LaunchKind.MANUAL, event_key="walk"
    )
    contact_import = ContactImport.objects.create(
        organization=organization, file_name="leads.csv", encoding="utf-8", delimiter=","
    )
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url="https://hooks.example.com/sms",
        secret_encrypted="whsec_c2VjcmV0",
        failing_since=at,
    )
    event = WebhookEvent.objects.create(
        organization=organization, type="contact.created", payload={"data": {}}
    )
    delivery = WebhookDelivery.objects.create(
        organization=organization, endpoint=endpoint, event=event
    )
    member = make_member(organization, Role.VIEWER, f"member@{domain}").memberships.get()
    invitation = Invitation.objects.create(
        organization=organization,
        email=f"invitee@{domain}",
        role=Role.VIEWER,
        token_hash=f"{organization.pk:x}".rjust(64, "x"),
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    key, _raw = api_key_create(organization=organization, name="CRM", role=Role.VIEWER)
    audit_event = AuditEvent.objects.filter(organization=organization).latest("at")  # the key's
    return {
        "contact_id": str(contact.public_id),
        "message_id": str(message.public_id),
        "template_id": str(template.public_id),
        "automation_id": str(automation.public_id),
        "step_id": STEP_ID,
        "launch_id": str(launch.public_id),
        "import_id": str(contact_import.public_id),
        "endpoint_id": str(endpoint.public_id),
        "delivery_id": str(delivery.public_id),
        "member_id": str(member.public_id),
        "invitation_id": str(invitation.public_id),
        "key_id": str(key.public_id),
        "event_id": str(audit_event.public_id),
        "name": TAG,
    }


def _send(template: Any) -> dict[str, Any]:
    return {"id": STEP_ID, "type": "send_sms", "template": str(template.public_id)}
