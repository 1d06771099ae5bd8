"""``/api/v1/connections/twilio/``: read, connect (PUT) and disconnect (DELETE) Twilio."""

from __future__ import annotations

from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from connections.models import Connection
from connections.selectors import twilio_connection
from connections.serializers import (
    TwilioConnectionSerializer,
    TwilioConnectSerializer,
    twilio_connection_data,
)
from connections.services.connections import (
    connection_disconnect,
    twilio_connect,
    twilio_set_send_rate,
)
from tenants.api_base import OrganizationAPIView
from tenants.api_schema import error_response, errors
from tenants.caching import no_store
from tenants.models import Role

NOT_CONNECTED = error_response(404, "The organization has not connected Twilio yet.")


@method_decorator(no_store, name="dispatch")  # the inbound webhook URL carries a secret key
@method_decorator(sensitive_post_parameters("auth_token"), name="dispatch")
class TwilioConnectionApi(OrganizationAPIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_connection(self) -> Connection:
        connection = twilio_connection(self.organization)
        if connection is None:
            raise Http404
        return connection

    @extend_schema(
        summary="The Twilio connection",
        description="A 404 before any connect.",
        responses={200: TwilioConnectionSerializer, 404: NOT_CONNECTED},
    )
    def get(self, request: Request) -> Response:
        return Response(twilio_connection_data(self.get_connection()))

    @extend_schema(
        summary="Connect Twilio, or change the connection",
        description="The credentials and the sender are verified with Twilio first (a 400 "
        "names the field Twilio refused). `auth_token` may be left out to keep the stored one "
        "for the same Account SID.",
        request=TwilioConnectSerializer,
        responses={200: TwilioConnectionSerializer, **errors(502)},
    )
    def put(self, request: Request) -> Response:
        serializer = TwilioConnectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        send_rate = data.pop("send_rate", None)
        connection = twilio_connect(organization=self.organization, by=self.actor, **data)
        if send_rate is not None:
            twilio_set_send_rate(connection=connection, send_rate=send_rate, by=self.actor)
        return Response(twilio_connection_data(twilio_connection(self.organization)))  # type: ignore[arg-type]

    @extend_schema(
        summary="Disconnect Twilio",
        description='Answers the connection, with `state: "disconnected"`; a 404 before any '
        "connect.",
        responses={200: TwilioConnectionSerializer, 404: NOT_CONNECTED},
    )
    def delete(self, request: Request) -> Response:
        connection = connection_disconnect(connection=self.get_connection(), by=self.actor)
        return Response(twilio_connection_data(connection))
