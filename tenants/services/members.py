from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tenants.actor import Actor
from tenants.audit.models import Action, TargetType
from tenants.audit.services import Target, audit_record
from tenants.errors import AccessDenied, ApplicationError, ConflictError
from tenants.models import Invitation, Membership, Organization, Role, User, normalize_email

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=7)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("invitation_accept", args=[token])


def _require_manager(actor: Actor, organization_id: int) -> None:
    if actor.organization.pk != organization_id or not actor.can(Role.ADMIN):
        raise AccessDenied("Only admins and owners manage members.")


def _check_role_grant(actor: Actor, role: str) -> None:
    if role not in Role.values:
        raise ApplicationError.for_field("role", f"“{role}” is not a role.")
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise AccessDenied("Only an owner can make someone an owner.")


def _owner_count(organization_id: int) -> int:
    return Membership.objects.filter(organization_id=organization_id, role=Role.OWNER).count()


@transaction.atomic
def invitation_create(
    *, organization: Organization, email: str, role: str, by: Actor
) -> tuple[Invitation, str]:
    """Returns the invitation and its link; the link is never retrievable again."""
    _require_manager(by, organization.pk)
    _check_role_grant(by, role)
    email = normalize_email(email)
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise ConflictError.for_field("email", f"{email} is already a member.")
    # A new invitation replaces a pending one for the same address (and its old link).
    Invitation.objects.filter(
        organization=organization, email=email, accepted_at__isnull=True
    ).delete()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=_hash_token(token),
        invited_by=by.user,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit_record(
        organization=organization,
        action=Action.MEMBER_INVITED,
        target=Target.of(TargetType.INVITATION, invitation, email),
        changes={"role": {"before": None, "after": role}},
        actor=by,
    )
    url = invitation_url(token)
    inviter = by.user.get_full_name() if by.user else organization.name

    def send() -> None:
        # The link is on the admin's page too: a mail server that fails must not lose it.
        try:
            send_mail(
                subject=f"{inviter} invited you to {organization.name} on SMS Hub",
                message=(
                    f"{inviter} invited you to join {organization.name} on SMS Hub as "
                    f"{Role(role).label.lower()}.\n\nAccept the invitation: {url}\n\n"
                    f"The link works once and expires in {INVITATION_LIFETIME.days} days."
                ),
                from_email=None,
                recipient_list=[email],
            )
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning(
                "invitation e-mail not sent: %s: %s", invitation.public_id, type(exc).__name__
            )

    transaction.on_commit(send)
    logger.info("invitation created: %s to %s", invitation.public_id, organization.public_id)
    return invitation, url


def invitation_get_by_token(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("organization")
        .filter(token_hash=_hash_token(token), organization__deletion_requested_at__isnull=True)
        .first()
    )


def invitation_check(invitation: Invitation | None) -> Invitation:
    """The invitation if it can still be used; otherwise an error that says why not."""
    if invitation is None:
        raise ApplicationError("This invitation link is not valid.", code="invitation_invalid")
    if invitation.accepted_at is not None:
        raise ConflictError("This invitation has already been used.", code="invitation_used")
    if invitation.is_expired:
        raise ApplicationError(
            "This invitation has expired. Ask an admin of the organization for a new one.",
            code="invitation_expired",
        )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = invitation_check(invitation_get_by_token(token))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    invitation_check(invitation)  # again, under the lock: single use even when raced
    if invitation.email != user.email:
        raise ApplicationError(
            f"This invitation was sent to {invitation.email}, but you are signed in as "
            f"{user.email}. Sign in with the invited address to accept it.",
            code="invitation_wrong_email",
        )
    membership, created = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    if not created:
        raise ConflictError("You are already a member of this organization.")
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        organization=invitation.organization,
        action=Action.MEMBER_JOINED,
        target=Target.of(TargetType.MEMBER, membership, user.email),
        changes={"role": {"before": None, "after": membership.role}},
        actor=user,
    )
    logger.info("invitation accepted: %s", invitation.public_id)
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: Actor) -> None:
    _require_manager(by, invitation.organization_id)
    if invitation.accepted_at is not None:
        raise ConflictError("This invitation has already been used.")
    audit_record(
        organization=invitation.organization,
        action=Action.INVITATION_REVOKED,
        target=Target.of(TargetType.INVITATION, invitation, invitation.email),
        actor=by,
    )
    invitation.delete()


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, by: Actor) -> Membership:
    _require_manager(by, membership.organization_id)
    _check_role_grant(by, role)
    target = Membership.objects.select_for_update().get(pk=membership.pk)
    if target.role == role:
        return target
    if target.role == Role.OWNER:
        if by.role != Role.OWNER:
            raise AccessDenied("Only an owner can change an owner's role.")
        if _owner_count(target.organization_id) == 1:
            raise ConflictError(
                "This is the last owner. Make someone else an owner first.", code="last_owner"
            )
    audit_record(
        organization=target.organization,
        action=Action.MEMBER_ROLE_CHANGED,
        target=Target.of(TargetType.MEMBER, target, target.user.email),
        changes={"role": {"before": target.role, "after": role}},
        actor=by,
    )
    target.role = role
    target.save(update_fields=["role"])
    logger.info("membership role changed: %s to %s by %s", target.public_id, role, by)
    return target


@transaction.atomic
def membership_remove(*, membership: Membership, by: Actor) -> None:
    """Removes a member; a member removing themself is leaving."""
    leaving = by.user is not None and membership.user_id == by.user.pk
    if not leaving:
        _require_manager(by, membership.organization_id)
    target = Membership.objects.select_for_update().get(pk=membership.pk)
    if target.role == Role.OWNER:
        if not leaving and by.role != Role.OWNER:
            raise AccessDenied("Only an owner can remove an owner.")
        if _owner_count(target.organization_id) == 1:
            raise ConflictError(
                "The last owner cannot leave. Make someone else an owner first, or delete "
                "the organization.",
                code="last_owner",
            )
    audit_record(
        organization=target.organization,
        action=Action.MEMBER_REMOVED,
        target=Target.of(TargetType.MEMBER, target, target.user.email),
        changes={"role": {"before": target.role, "after": None}},
        actor=by,
    )
    target.delete()
    logger.info("membership removed: %s by %s", target.public_id, by)
