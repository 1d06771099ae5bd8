"""The dashboard, organization settings, creating, switching and deleting organizations."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.decorators.http import require_POST

from tenants.access import OrganizationView, switch_organization
from tenants.errors import ApplicationError
from tenants.forms import DeleteOrganizationForm, OrganizationCreateForm, OrganizationSettingsForm
from tenants.models import Role
from tenants.selectors import (
    user_memberships,
)
from tenants.services.organizations import (
    organization_create,
    organization_request_deletion,
    organization_update,
)
from tenants.two_factor.selectors import organization_two_factor_members
from tenants.views.forms import apply_error


class OrganizationSettingsView(OrganizationView):
    write_role = Role.ADMIN
    template_name = "tenants/settings.html"

    def render_form(self, form: OrganizationSettingsForm, status: int = 200) -> HttpResponse:
        editable = self.can(Role.ADMIN)
        if not editable:
            for field in form.fields.values():
                field.disabled = True
        context = {
            "form": form,
            "editable": editable,
            "section": "general",
            "two_factor_members": organization_two_factor_members(self.organization),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(OrganizationSettingsForm(instance=self.organization))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = OrganizationSettingsForm(request.POST, instance=self.organization)
        if form.is_valid():
            data = {field: form.cleaned_data[field] for field in form.Meta.fields}
            try:
                organization_update(organization=self.organization, data=data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, "Settings saved.")
                return redirect("organization_settings")
        # A failed ModelForm validation has already changed the instance in memory.
        self.organization.refresh_from_db()
        return self.render_form(form, status=400)


class OrganizationCreateView(View):
    """Any signed-in person can start another organization, which they own."""

    template_name = "tenants/organization_create.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"/login/?next={request.path}")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[return-value]

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": OrganizationCreateForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = OrganizationCreateForm(request.POST)
        if form.is_valid():
            try:
                organization = organization_create(owner=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                switch_organization(request, organization)
                messages.success(request, f"{organization.name} is ready.")
                return redirect("dashboard")
        return render(request, self.template_name, {"form": form}, status=400)


@login_required
@require_POST
def organization_switch(request: HttpRequest) -> HttpResponse:
    try:
        organization_id = uuid.UUID(request.POST.get("organization", ""))
    except ValueError as exc:
        raise Http404 from exc
    membership = get_object_or_404(
        user_memberships(request.user),  # type: ignore[arg-type]
        organization__public_id=organization_id,
    )
    switch_organization(request, membership.organization)
    messages.info(request, f"Switched to {membership.organization.name}.")
    return redirect("dashboard")


class OrganizationDeleteView(OrganizationView):
    read_role = Role.OWNER
    write_role = Role.OWNER
    template_name = "tenants/organization_delete.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        context = {"form": DeleteOrganizationForm(), "section": "delete"}
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = DeleteOrganizationForm(request.POST)
        if form.is_valid():
            try:
                organization_request_deletion(
                    organization=self.organization,
                    by=self.actor,
                    confirmation=form.cleaned_data["confirmation"],
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(
                    request,
                    f"{self.organization.name} was deleted. Its data is being removed in the "
                    "background.",
                )
                return redirect("dashboard")
        context = {"form": form, "section": "delete"}
        return render(request, self.template_name, context, status=400)
