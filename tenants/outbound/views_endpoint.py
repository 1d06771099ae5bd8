"""An endpoint's page (its recent attempts, paginated) and its buttons: disable, enable,
Send test event, Replay an attempt's event."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from tenants.errors import ApplicationError
from tenants.outbound.models import EVENT_TYPES, WebhookDelivery
from tenants.outbound.selectors import endpoint_deliveries
from tenants.outbound.services.endpoints import (
    endpoint_disable,
    endpoint_enable,
    endpoint_send_test,
    event_replay,
)
from tenants.outbound.views import WebhooksAdminView

PER_PAGE = 25


class EndpointView(WebhooksAdminView):
    def get(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = self.get_endpoint(endpoint_id)
        page = Paginator(endpoint_deliveries(endpoint), PER_PAGE).get_page(request.GET.get("page"))
        return self.page(
            "endpoint.html",
            endpoint=endpoint,
            page=page,
            event_types=[t for t in EVENT_TYPES if t in endpoint.event_types],
            now=timezone.now(),
        )


class EndpointDisableView(WebhooksAdminView):
    def post(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = endpoint_disable(endpoint=self.get_endpoint(endpoint_id))
        messages.success(request, f"Endpoint disabled: no events are posted to {endpoint.url}.")
        return redirect("webhook_endpoint", endpoint.public_id)


class EndpointEnableView(WebhooksAdminView):
    def post(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = endpoint_enable(endpoint=self.get_endpoint(endpoint_id))
        messages.success(request, f"Endpoint enabled: new events are posted to {endpoint.url}.")
        return redirect("webhook_endpoint", endpoint.public_id)


class EndpointTestView(WebhooksAdminView):
    def post(self, request: HttpRequest, endpoint_id: str) -> HttpResponse:
        endpoint = self.get_endpoint(endpoint_id)
        try:
            endpoint_send_test(endpoint=endpoint)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                "A webhook.test event was sent to this endpoint; its attempt is listed below "
                "(reload in a few seconds if it still says pending).",
            )
        return redirect("webhook_endpoint", endpoint.public_id)


class DeliveryReplayView(WebhooksAdminView):
    def post(self, request: HttpRequest, endpoint_id: str, delivery_id: str) -> HttpResponse:
        endpoint = self.get_endpoint(endpoint_id)
        delivery = self.get_scoped_object(
            WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event"), delivery_id
        )
        try:
            event_replay(endpoint=endpoint, event=delivery.event)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"The {delivery.event.type} event {delivery.event.webhook_id} was sent again "
                "(same webhook-id, so a receiver that has it already ignores it).",
            )
        return redirect("webhook_endpoint", endpoint.public_id)
