from __future__ import annotations

from dataclasses import dataclass

from tenants.models import ApiKey, Membership, Organization, Role, User


@dataclass(frozen=True)
class Actor:
    """Who is acting in an organization: a signed-in member, an API key, or an operator
    running a management command (neither user nor key)."""

    organization: Organization
    role: str
    user: User | None = None
    api_key: ApiKey | None = None

    @classmethod
    def for_membership(cls, membership: Membership) -> Actor:
        return cls(organization=membership.organization, role=membership.role, user=membership.user)

    @classmethod
    def for_api_key(cls, api_key: ApiKey) -> Actor:
        return cls(organization=api_key.organization, role=api_key.role, api_key=api_key)

    def can(self, minimum_role: str) -> bool:
        return Role.at_least(self.role, minimum_role)

    def __str__(self) -> str:
        if self.user is not None:
            return f"user {self.user.public_id}"
        if self.api_key is not None:
            return f"api key {self.api_key.prefix}…"
        return "operator (command line)"
