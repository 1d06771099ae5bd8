"""``/api/v1/messages/``: send (202, whatever the outcome), list and read."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.models import Contact
from contacts.services.contacts import contact_upsert
from contacts.services.phones import phone_normalize
from messaging.models import Message
from messaging.serializers import MessageDetailSerializer, MessageInputSerializer, MessageSerializer
from messaging.services.idempotency import idempotent
from messaging.services.sending import message_send
from templates_sms.models import SmsTemplate
from tenants.api_base import OrganizationAPIView

FILTERS = ("status", "direction", "source", "source_ref")


class MessagesApi(OrganizationAPIView):
    def get(self, request: Request) -> Response:
        params = request.query_params
        messages = Message.objects.filter(organization=self.organization).select_related("contact")
        for name in FILTERS:
            if params.get(name):
                messages = messages.filter(**{name: params[name]})
        if params.get("contact"):
            contact = self.get_scoped_object(Contact, params["contact"])
            messages = messages.filter(contact=contact)
        dates = serializers.DateTimeField()
        if params.get("created_after"):
            messages = messages.filter(
                created_at__gte=dates.to_internal_value(params["created_after"])
            )
        if params.get("created_before"):
            messages = messages.filter(
                created_at__lt=dates.to_internal_value(params["created_before"])
            )
        return self.paginate(messages, MessageSerializer)

    def post(self, request: Request) -> Response:
        serializer = MessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = request.headers.get("Idempotency-Key", "").strip()[:200]
        if key:
            status, body = idempotent(
                organization=self.organization,
                key=key,
                data=request.data,
                run=lambda: self.send(data),
            )
        else:
            status, body = self.send(data)
        return Response(body, status=status)

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
    def get(self, request: Request, message_id: str) -> Response:
        message = self.get_scoped_object(
            Message.objects.select_related("contact").prefetch_related("events"), message_id
        )
        return Response(MessageDetailSerializer(message).data)
