"""``/api/v1/webhook-endpoints/``: the endpoints, a test event, the attempts and a replay.
Admin keys only."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.api_base import OrganizationAPIView
from tenants.api_schema import IDEMPOTENCY_KEY, conflict, once_conflict
from tenants.caching import no_store
from tenants.models import Role
from tenants.outbound.models import WebhookDelivery, WebhookEndpoint
from tenants.outbound.selectors import endpoint_deliveries
from tenants.outbound.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
    WebhookSecretSerializer,
)
from tenants.outbound.services.endpoints import (
    endpoint_create,
    endpoint_delete,
    endpoint_disable,
    endpoint_enable,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
    event_replay,
)


class WebhookAPIView(OrganizationAPIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        return self.get_scoped_object(WebhookEndpoint, endpoint_id)


@method_decorator(no_store, name="dispatch")  # POST answers the secret once
class WebhookEndpointsApi(WebhookAPIView):
    @extend_schema(summary="The webhook endpoints", responses=WebhookEndpointSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(self.scoped(WebhookEndpoint), WebhookEndpointSerializer)

    @extend_schema(
        summary="Add a webhook endpoint",
        description="The answer carries the signing secret, once. The URL must be a public "
        "https:// address (checked again before every attempt). (A retry with the same "
        "`Idempotency-Key` gets the same answer, kept encrypted for those 24 hours.)",
        parameters=[IDEMPOTENCY_KEY],
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer, **once_conflict("too_many_endpoints")},
    )
    def post(self, request: Request) -> Response:
        return self.created_once(request, lambda: self.create(request), sealed=True)

    def create(self, request: Request) -> Response:
        serializer = WebhookEndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        enabled = fields.pop("enabled", True)
        endpoint, secret = endpoint_create(organization=self.organization, **fields)
        if not enabled:
            endpoint_disable(endpoint=endpoint)
        body = {**WebhookEndpointSerializer(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookEndpointApi(WebhookAPIView):
    @extend_schema(summary="A webhook endpoint", responses=WebhookEndpointSerializer)
    def get(self, request: Request, endpoint_id: str) -> Response:
        return Response(WebhookEndpointSerializer(self.get_endpoint(endpoint_id)).data)

    @extend_schema(
        summary="Change a webhook endpoint",
        description="Any of url, description, event_types; enabled false disables it, true "
        "enables it again.",
        request=WebhookEndpointInputSerializer(partial=True),
        responses=WebhookEndpointSerializer,
    )
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = self.get_endpoint(endpoint_id)
        serializer = WebhookEndpointInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        enabled = fields.pop("enabled", None)
        endpoint = endpoint_update(endpoint=endpoint, **fields)
        if enabled is True:
            endpoint = endpoint_enable(endpoint=endpoint)
        elif enabled is False:
            endpoint = endpoint_disable(endpoint=endpoint)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(summary="Delete a webhook endpoint", responses={204: None})
    def delete(self, request: Request, endpoint_id: str) -> Response:
        endpoint_delete(endpoint=self.get_endpoint(endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(no_store, name="dispatch")
class WebhookEndpointRotateApi(WebhookAPIView):
    @extend_schema(
        summary="Rotate an endpoint's signing secret",
        request=None,
        responses=WebhookSecretSerializer,
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        secret = endpoint_rotate_secret(endpoint=self.get_endpoint(endpoint_id))
        return Response({"secret": secret})


class WebhookEndpointTestApi(WebhookAPIView):
    @extend_schema(
        summary="Send a test event to an endpoint",
        description="A webhook.test event to this endpoint only; the answer is its attempt, "
        "pending (read the attempts to see how it went).",
        request=None,
        responses={202: WebhookDeliverySerializer, **conflict("endpoint_disabled")},
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        delivery = endpoint_send_test(endpoint=self.get_endpoint(endpoint_id))
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveriesApi(WebhookAPIView):
    @extend_schema(
        summary="An endpoint's attempts, newest first",
        responses=WebhookDeliverySerializer(many=True),
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        deliveries = endpoint_deliveries(self.get_endpoint(endpoint_id))
        return self.paginate(deliveries, WebhookDeliverySerializer)


class WebhookDeliveryReplayApi(WebhookAPIView):
    @extend_schema(
        summary="Send an attempt's event to its endpoint again",
        description="The same event (same webhook-id) as a new first attempt.",
        request=None,
        responses={202: WebhookDeliverySerializer, **conflict("endpoint_disabled")},
    )
    def post(self, request: Request, endpoint_id: str, delivery_id: str) -> Response:
        endpoint = self.get_endpoint(endpoint_id)
        delivery = self.get_scoped_object(
            WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event"), delivery_id
        )
        replayed = event_replay(endpoint=endpoint, event=delivery.event)
        return Response(WebhookDeliverySerializer(replayed).data, status=status.HTTP_202_ACCEPTED)
