"""API keys: created and revoked by admins; each key is shown once."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator

from tenants.access import OrganizationView
from tenants.api_ratelimit import api_limits
from tenants.caching import no_store
from tenants.errors import ApplicationError
from tenants.forms import ApiKeyForm
from tenants.models import ApiKey, Role
from tenants.selectors import organization_api_keys
from tenants.services.api_keys import api_key_create, api_key_revoke
from tenants.views.forms import apply_error


@method_decorator(no_store, name="dispatch")  # shows a new key once
class ApiKeysView(OrganizationView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    template_name = "tenants/api_keys.html"

    def render_page(
        self, form: ApiKeyForm, *, new_key: str | None = None, status: int = 200
    ) -> HttpResponse:
        rate, burst = api_limits(self.organization)
        context = {
            "section": "api_keys",
            "api_keys": organization_api_keys(self.organization),
            "form": form,
            "new_key": new_key,
            "api_rate_limit": rate,
            "api_burst": burst,
            "api_limits_own": bool(self.organization.api_rate_limit or self.organization.api_burst),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(ApiKeyForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                api_key, key = api_key_create(
                    organization=self.organization,
                    by=self.membership.user,
                    **form.cleaned_data,
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(
                    request,
                    f"API key “{api_key.name}” created. Copy it now: it is shown only once.",
                )
                return self.render_page(ApiKeyForm(), new_key=key)
        return self.render_page(form, status=400)


class ApiKeyRevokeView(OrganizationView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get(self, request: HttpRequest, key_id: str) -> HttpResponse:
        api_key = self.get_scoped_object(ApiKey, key_id)
        context = {
            "title": f"Revoke “{api_key.name}”?",
            "message": f"Requests with smsh_{api_key.prefix}_… will be refused at once with 401. "
            "This cannot be undone; create a new key if you need one.",
            "button": "Revoke key",
            "action": request.path,
            "cancel_url": reverse("api_keys"),
        }
        return render(request, "confirm.html", context)

    def post(self, request: HttpRequest, key_id: str) -> HttpResponse:
        api_key = self.get_scoped_object(ApiKey, key_id)
        try:
            api_key_revoke(api_key=api_key)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"API key “{api_key.name}” was revoked.")
        return redirect("api_keys")
