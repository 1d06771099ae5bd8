"""Members and invitations."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator

from tenants.access import OrganizationView
from tenants.caching import no_store
from tenants.errors import ApplicationError
from tenants.forms import InvitationForm, RoleForm
from tenants.models import Invitation, Membership, Role
from tenants.selectors import organization_invitations_pending, organization_members
from tenants.services.members import (
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_remove,
)
from tenants.views.forms import apply_error


@method_decorator(no_store, name="dispatch")  # shows a new invitation link once
class MembersView(OrganizationView):
    write_role = Role.ADMIN
    template_name = "tenants/members.html"

    def render_page(
        self, form: InvitationForm, *, invitation_link: str | None = None, status: int = 200
    ) -> HttpResponse:
        is_owner = self.membership.role == Role.OWNER
        can_manage = self.can(Role.ADMIN)
        rows = [
            # Admins manage everyone but owners; owners manage everyone; nobody edits themself.
            (m, can_manage and m.pk != self.membership.pk and (is_owner or m.role != Role.OWNER))
            for m in organization_members(self.organization)
        ]
        roles = [r for r in Role if is_owner or r != Role.OWNER]
        context = {
            "section": "members",
            "members": rows,
            "invitations": organization_invitations_pending(self.organization),
            "form": form,
            "can_manage": can_manage,
            "role_options": [(r.value, r.label) for r in roles],
            "invitation_link": invitation_link,
        }
        return render(self.request, self.template_name, context, status=status)

    def invitation_form(self, data: object = None) -> InvitationForm:
        return InvitationForm(data, can_grant_owner=self.membership.role == Role.OWNER)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(self.invitation_form())

    def post(self, request: HttpRequest) -> HttpResponse:
        """Invites someone; the page then shows the link once, to copy."""
        form = self.invitation_form(request.POST)
        if form.is_valid():
            try:
                invitation, link = invitation_create(
                    organization=self.organization, by=self.actor, **form.cleaned_data
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Invitation created for {invitation.email} and e-mailed to them. You can "
                    "also copy the link below; it is shown only now.",
                )
                return self.render_page(self.invitation_form(), invitation_link=link)
        return self.render_page(form, status=400)


class MemberRoleView(OrganizationView):
    write_role = Role.ADMIN

    def post(self, request: HttpRequest, member_id: str) -> HttpResponse:
        membership = self.get_scoped_object(Membership.objects.select_related("user"), member_id)
        form = RoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose one of the roles.")
            return redirect("members")
        try:
            membership_change_role(
                membership=membership, role=form.cleaned_data["role"], by=self.actor
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            role = Role(form.cleaned_data["role"]).label.lower()
            messages.success(request, f"{membership.user.email} is now {role}.")
        return redirect("members")


class MemberRemoveView(OrganizationView):
    """Confirms, then removes a member. Removing yourself is leaving (any role may leave)."""

    read_role = Role.VIEWER
    write_role = Role.VIEWER

    def get_target(self, member_id: str) -> Membership:
        return self.get_scoped_object(Membership.objects.select_related("user"), member_id)

    def get(self, request: HttpRequest, member_id: str) -> HttpResponse:
        target = self.get_target(member_id)
        leaving = target.pk == self.membership.pk
        if not leaving and not self.can(Role.ADMIN):
            raise PermissionDenied("Only admins and owners remove members.")
        organization = self.organization.name
        if leaving:
            context = {
                "title": f"Leave {organization}?",
                "message": "You will lose access to this organization. An admin can invite you "
                "again.",
                "button": "Leave organization",
            }
        else:
            context = {
                "title": f"Remove {target.user.email}?",
                "message": f"They will lose access to {organization} at once. You can invite "
                "them again later.",
                "button": "Remove member",
            }
        context.update(action=request.path, cancel_url=reverse("members"))
        return render(request, "confirm.html", context)

    def post(self, request: HttpRequest, member_id: str) -> HttpResponse:
        target = self.get_target(member_id)
        leaving = target.pk == self.membership.pk
        try:
            membership_remove(membership=target, by=self.actor)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("members")
        if leaving:
            messages.success(request, f"You left {self.organization.name}.")
            return redirect("dashboard")
        messages.success(request, f"{target.user.email} was removed.")
        return redirect("members")


class InvitationRevokeView(OrganizationView):
    write_role = Role.ADMIN

    def post(self, request: HttpRequest, invitation_id: str) -> HttpResponse:
        invitation = self.get_scoped_object(Invitation, invitation_id)
        try:
            invitation_revoke(invitation=invitation, by=self.actor)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"The invitation to {invitation.email} was revoked.")
        return redirect("members")
