"""Reading what the audit log recorded, and clients that come from a known address."""

from __future__ import annotations

from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from tenants.audit.models import AuditEvent
from tenants.models import Organization
from tests.factories import Personas

ADDRESS = "198.51.100.9"  # the client, as the one trusted proxy saw it


def from_address(client: Any) -> Any:
    client.defaults["HTTP_X_FORWARDED_FOR"] = f"10.0.0.1, {ADDRESS}"
    return client


def browser(personas: Personas, persona: str) -> Client:
    return from_address(personas.client(persona))


def api(personas: Personas, persona: str) -> APIClient:
    return from_address(personas.api(persona))


def events(organization: Organization, action: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(organization=organization).order_by("pk")
    return list(found.filter(action=action) if action else found)


def one(organization: Organization, action: str) -> AuditEvent:
    found = events(organization, action)
    assert len(found) == 1, [(e.action, e.actor_label) for e in events(organization)]
    return found[0]


def by_member(event: AuditEvent, personas: Personas, persona: str) -> None:
    user = personas.user(persona)
    assert (event.actor_type, event.actor_user_id, event.actor_api_key_id) == (
        "user",
        user.pk,
        None,
    )
    assert event.actor_label == user.email
    assert event.address == ADDRESS


def by_key(event: AuditEvent, name: str) -> None:
    assert event.actor_type == "api_key"
    assert event.actor_user_id is None
    assert event.actor_api_key is not None
    assert event.actor_api_key.name == name
    assert event.actor_label == f"API key “{name}” (smsh_{event.actor_api_key.prefix}_…)"
    assert event.address == ADDRESS


def by_operator(event: AuditEvent) -> None:
    assert (event.actor_type, event.actor_label) == ("operator", "operator (command line)")
    assert (event.actor_user_id, event.actor_api_key_id, event.address) == (None, None, None)
