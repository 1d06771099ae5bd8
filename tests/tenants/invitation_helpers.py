"""Inviting someone in a test: an invitation of organization A and the path of its link."""

from __future__ import annotations

import re

from tenants.actor import Actor
from tenants.models import Role
from tenants.services.members import invitation_create

LINK = re.compile(r"https://hub\.example\.com(/invitations/[A-Za-z0-9_-]+/)")


def invite(personas, email: str, role: str = Role.MARKETER, by: str = "admin") -> str:
    """Creates an invitation in organization A and returns the path of its link."""
    actor = Actor.for_membership(personas.membership(by))
    _invitation, url = invitation_create(
        organization=personas.org, email=email, role=role, by=actor
    )
    found = LINK.fullmatch(url)
    assert found, url
    return found.group(1)
