"""Settings → Webhooks: the endpoints, adding, editing, rotating the secret, deleting.
Admins and owners only; a secret is shown once, on a page that is never cached."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator

from tenants.access import OrganizationView
from tenants.caching import no_store
from tenants.errors import ApplicationError
from tenants.models import Role
from tenants.outbound.forms import EndpointForm
from tenants.outbound.models import WebhookEndpoint
from tenants.outbound.selectors import organization_endpoints
from tenants.outbound.services.endpoints import (
    MAX_ENDPOINTS,
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_update,
)
from tenants.views.forms import apply_error


class WebhooksAdminView(OrganizationView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        return self.get_scoped_object(WebhookEndpoint, endpoint_id)

    def page(self, template: str, status: int = 200, **context: Any) -> HttpResponse:
        return render(
            self.request, f"outbound/{template}", {"section": "webhooks", **context}, status=status
        )

    def secret_page(self, endpoint: WebhookEndpoint, secret: str, *, rotated: bool) -> HttpResponse:
        return self.page("secret.html", endpoint=endpoint, secret=secret, rotated=rotated)


class WebhooksView(WebhooksAdminView):
    def get(self, request: HttpRequest) -> HttpResponse:
        endpoints = list(organization_endpoints(self.organization))
        return self.page("list.html", endpoints=endpoints, can_add=len(endpoints) < MAX_ENDPOINTS)


@method_decorator(no_store, name="dispatch")  # the answer to a POST shows the secret once
class EndpointCreateView(WebhooksAdminView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page("form.html", form=EndpointForm(), endpoint=None)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint, secret = endpoint_create(
                    organization=self.organization, by=self.membership.user, **form.cleaned_data
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"Endpoint {endpoint.url} added.")
                return self.secret_page(endpoint, secret, rotated=False)
        return self.page("form.html", status=400, form=form, endpoint=None)


class EndpointEditView(WebhooksAdminView):
    def get(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = self.get_endpoint(endpoint_id)
        initial = {
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
        }
        return self.page("form.html", form=EndpointForm(initial=initial), endpoint=endpoint)

    def post(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = self.get_endpoint(endpoint_id)
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint_update(endpoint=endpoint, **form.cleaned_data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, "Endpoint saved.")
                return redirect("webhook_endpoint", endpoint.public_id)
        return self.page("form.html", status=400, form=form, endpoint=endpoint)


@method_decorator(no_store, name="dispatch")
class EndpointRotateView(WebhooksAdminView):
    def get(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = self.get_endpoint(endpoint_id)
        context = {
            "title": "Rotate the signing secret?",
            "message": f"A new secret signs the events posted to {endpoint.url}. For 24 hours "
            "each event carries two signatures, one with the old secret and one with the new, "
            "so your receiver can switch without losing any; after that only the new one.",
            "button": "Rotate secret",
            "action": request.path,
            "cancel_url": reverse("webhook_endpoint", args=[endpoint.public_id]),
        }
        return render(request, "confirm.html", context)

    def post(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = self.get_endpoint(endpoint_id)
        secret = endpoint_rotate_secret(endpoint=endpoint)
        messages.success(request, "The signing secret was rotated.")
        return self.secret_page(endpoint, secret, rotated=True)


class EndpointDeleteView(WebhooksAdminView):
    def get(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = self.get_endpoint(endpoint_id)
        context = {
            "title": "Delete this endpoint?",
            "message": f"No more events will be posted to {endpoint.url}, and its attempts "
            "are deleted with it. This cannot be undone; to pause it, disable it instead.",
            "button": "Delete endpoint",
            "action": request.path,
            "cancel_url": reverse("webhook_endpoint", args=[endpoint.public_id]),
        }
        return render(request, "confirm.html", context)

    def post(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = self.get_endpoint(endpoint_id)
        url = endpoint.url
        endpoint_delete(endpoint=endpoint)
        messages.success(request, f"Endpoint {url} deleted.")
        return redirect("webhooks")
