from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from tenants.models import ApiKey, Invitation, Membership, Organization, User


def user_memberships(user: User) -> QuerySet[Membership]:
    """The user's memberships in organizations that are not being deleted, by name."""
    return (
        Membership.objects.filter(user=user, organization__deletion_requested_at__isnull=True)
        .select_related("organization")
        .order_by("organization__name", "organization__pk")
    )


def membership_for_session(user: User, organization_id: str | None) -> Membership | None:
    """The membership the user last switched to, else their first one."""
    memberships = user_memberships(user)
    if organization_id:
        try:
            chosen = memberships.filter(organization__public_id=UUID(organization_id)).first()
        except ValueError:
            chosen = None
        if chosen is not None:
            return chosen
    return memberships.first()


def organization_members(organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email")
    )


def organization_invitations_pending(organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization, accepted_at__isnull=True
    ).select_related("invited_by")


def organization_api_keys(organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization).select_related("created_by")
