"""Constants and builders shared by the ``/api/v1/messages/`` tests."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from contacts.models import Contact
from contacts.services.contacts import contact_create
from messaging.models import Message
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create
from tenants.models import Organization

MESSAGES = "/api/v1/messages/"
CALLBACK_PREFIX = "https://hub.example.com/webhooks/twilio/status/"
PHONE = "+14155550123"
OTHER_PHONE = "+14155550124"
WRITERS = ["owner", "admin", "marketer"]
FIELDS = {
    "id",
    "direction",
    "contact",
    "to",
    "from",
    "messaging_service_sid",
    "sid",
    "body",
    "status",
    "suppressed_reason",
    "needs_attention",
    "error_code",
    "error_message",
    "segments",
    "encoding",
    "source",
    "source_ref",
    "send_after",
    "created_at",
    "updated_at",
}
EVENT_FIELDS = {"status", "error_code", "at", "params"}


# --- Builders -------------------------------------------------------------------------------


def add_contact(
    organization: Organization, phone: str = PHONE, first_name: str = "Ada", **data: Any
) -> Contact:
    data.setdefault("time_zone", "UTC")
    return contact_create(
        organization=organization, source="test", phone=phone, first_name=first_name, **data
    )


def add_template(organization: Organization, body: str = "Hi {{ first_name }}!") -> SmsTemplate:
    name = f"T {uuid.uuid4().hex[:6]}"
    return template_create(organization=organization, name=name, body=body).template


def log_entry(organization: Organization, **fields: Any) -> Message:
    """A row of the message log, as whatever path wrote it would have left it."""
    fields.setdefault("to", PHONE)
    fields.setdefault("body", "Hello")
    fields.setdefault("status", "queued")
    fields.setdefault("source", "api")
    created_at = fields.pop("created_at", None)
    message = Message.objects.create(organization=organization, **fields)
    if created_at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=created_at)
        message.refresh_from_db()
    return message


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def ids(response: Any) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


def parse_time(value: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert moment.utcoffset() == datetime.timedelta(0), value
    return moment
