"""Builders for whole object graphs inside one tenant. Our own objects are made in code."""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from tenants.models import Membership, Organization, Role, User
from tenants.services.api_keys import api_key_create
from tenants.services.organizations import organization_create

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def page_text(response: Any) -> str:
    """A page's HTML with entities decoded, to look for the text a person reads."""
    return html.unescape(response.content.decode())


def settings_data(organization: Organization, **changes: str) -> dict[str, str]:
    """The organization settings form as posted, with ``changes`` applied."""
    data = {
        "name": organization.name,
        "time_zone": organization.time_zone,
        "default_country": organization.default_country,
        "send_window_start": organization.send_window_start.strftime("%H:%M"),
        "send_window_end": organization.send_window_end.strftime("%H:%M"),
        "frequency_cap": ""
        if organization.frequency_cap is None
        else str(organization.frequency_cap),
        "opt_out_footer": organization.opt_out_footer,
        "help_reply": organization.help_reply,
        "message_retention_days": str(organization.message_retention_days),
    }
    data.update(changes)
    return data


def make_user(email: str | None = None, *, full_name: str = "") -> User:
    email = email or f"person{next(_counter)}@example.com"
    return User.objects.create_user(email, PASSWORD, full_name=full_name)


def make_member(organization: Organization, role: str, email: str | None = None) -> User:
    user = make_user(email)
    Membership.objects.create(organization=organization, user=user, role=role)
    return user


@dataclass
class Personas:
    """Owner, admin, marketer and viewer of organization A; an outsider who owns B."""

    org: Organization
    other_org: Organization
    owner: User
    admin: User
    marketer: User
    viewer: User
    outsider: User

    def user(self, persona: str) -> User:
        user: User = getattr(self, persona)
        return user

    def membership(self, persona: str) -> Membership:
        return Membership.objects.get(user=self.user(persona))

    def client(self, persona: str) -> Client:
        """A browser signed in as the persona (behind the TLS proxy, as in production)."""
        client = Client(HTTP_X_FORWARDED_PROTO="https")
        client.force_login(self.user(persona))
        return client

    def api(self, persona: str) -> APIClient:
        """An API client with a key of the persona's role in the persona's organization.

        Keys cannot be owners, so the owner persona gets an admin key.
        """
        membership = self.membership(persona)
        role = Role.ADMIN if membership.role == Role.OWNER else membership.role
        _key, raw = api_key_create(organization=membership.organization, name=persona, role=role)
        client = APIClient(HTTP_X_FORWARDED_PROTO="https")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client


def make_personas() -> Personas:
    owner = make_user("owner@a.example.com", full_name="Olivia Owner")
    org = organization_create(name="Acme A", owner=owner)
    outsider = make_user("outsider@b.example.com", full_name="Oscar Outsider")
    other_org = organization_create(name="Beta B", owner=outsider)
    return Personas(
        org=org,
        other_org=other_org,
        owner=owner,
        admin=make_member(org, Role.ADMIN, "admin@a.example.com"),
        marketer=make_member(org, Role.MARKETER, "marketer@a.example.com"),
        viewer=make_member(org, Role.VIEWER, "viewer@a.example.com"),
        outsider=outsider,
    )
