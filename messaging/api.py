"""``/api/v1/messages/``: send (202, whatever the outcome), list and read."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.models import Contact
from contacts.services.contacts import contact_upsert
from contacts.services.phones import phone_normalize
from messaging.models import Direction, Message, Status
from messaging.selectors import MessageFilter, messages_filtered
from messaging.serializers import MessageDetailSerializer, MessageInputSerializer, MessageSerializer
from messaging.services.sending import message_send
from templates_sms.models import SmsTemplate
from tenants.api_base import OrganizationAPIView
from tenants.api_schema import IDEMPOTENCY_KEY, UNKNOWN_IN_BODY, conflict, query
from tenants.sources import Source

MESSAGE_FILTERS = [
    query("status", "Only messages with this status.", enum=Status.values),
    query("direction", "outbound or inbound.", enum=Direction.values),
    query(
        "contact",
        "A contact's id: its messages only (404 when there is no such contact).",
        OpenApiTypes.UUID,
    ),
    query("source", "What made the message.", enum=Source.values),
    query("source_ref", "What `source` refers to (an automation's id, say)."),
    query("created_after", "Made at or after this time.", OpenApiTypes.DATETIME),
    query("created_before", "Made before this time.", OpenApiTypes.DATETIME),
]


class MessagesApi(OrganizationAPIView):
    def filters(self, params: QueryDict) -> MessageFilter:
        """The list's query parameters as the message log's filters: an unknown or foreign
        ``contact`` is a 404, a malformed time a 400."""
        dates = serializers.DateTimeField()
        contact = params.get("contact")
        after, before = params.get("created_after"), params.get("created_before")
        return MessageFilter(
            status=params.get("status", ""),
            direction=params.get("direction", ""),
            source=params.get("source", ""),
            source_ref=params.get("source_ref", ""),
            contact=self.get_scoped_object(Contact, contact) if contact else None,
            created_after=dates.to_internal_value(after) if after else None,
            created_before=dates.to_internal_value(before) if before else None,
        )

    @extend_schema(
        summary="The message log",
        description="Outbound and inbound messages, newest first.",
        parameters=MESSAGE_FILTERS,
        responses=MessageSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        messages = messages_filtered(self.organization, self.filters(request.query_params))
        return self.paginate(messages.select_related("contact"), MessageSerializer)

    @extend_schema(
        summary="Send a text",
        description="To `contact` (an id) or `to` (a number in any format: it attaches to the "
        "contact with that number, or makes one). The text is `template` (an id) or `body`. "
        "The answer is 202 with the message whatever its status: one the send rules stop "
        "(an opted-out number, the frequency cap…) is `suppressed` with its "
        "`suppressed_reason`. `respect_quiet_hours` holds it until the organization's send "
        "window in the contact's time zone.",
        parameters=[IDEMPOTENCY_KEY],
        request=MessageInputSerializer,
        responses={
            202: MessageSerializer,
            404: UNKNOWN_IN_BODY,
            **conflict("idempotency_key_reused"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = MessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def create() -> Response:
            status, body = self.send(data)
            return Response(body, status=status)

        return self.created_once(request, create)

    @transaction.atomic
    def send(self, data: dict[str, Any]) -> tuple[int, Any]:
        contact = None
        if data.get("contact"):
            contact = self.get_scoped_object(Contact, data["contact"])
        elif data.get("to"):
            # Checked here first so an error names the field the client sent.
            phone = phone_normalize(data["to"], self.organization.default_country, field="to")
            contact, _created = contact_upsert(
                organization=self.organization, phone=phone, source="api"
            )
        template = (
            self.get_scoped_object(SmsTemplate, data["template"]) if data.get("template") else None
        )
        message = message_send(
            organization=self.organization,
            contact=contact,
            template=template,
            body=data.get("body"),
            media_url=data.get("media_url") or "",
            send_after=data.get("send_after"),
            respect_quiet_hours=data["respect_quiet_hours"],
            source="api",
            source_ref=f"api-key:{self.api_key.prefix}",
        )
        return 202, dict(MessageSerializer(message).data)


class MessageApi(OrganizationAPIView):
    @extend_schema(
        summary="A message",
        description="With its `events`: each status Twilio reported, oldest first.",
        responses=MessageDetailSerializer,
    )
    def get(self, request: Request, message_id: str) -> Response:
        message = self.get_scoped_object(
            Message.objects.select_related("contact").prefetch_related("events"), message_id
        )
        return Response(MessageDetailSerializer(message).data)
