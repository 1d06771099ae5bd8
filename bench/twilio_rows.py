"""The Twilio rows benchmarks write straight to the database (no connect flow: nothing is
asked of Twilio): a connection with a local number, an organization with queued messages, and
Twilio's signed ``delivered`` callback for one of them.

Imported once Django is set up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connections.models import Connection
    from messaging.models import Message
    from tenants.models import Organization

CALLBACK_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CALLBACK_ACCOUNT = "AC" + "b" * 32
CALLBACK_SENDER = "+14155550100"


def queued_messages(count: int) -> tuple[Organization, list[Message]]:
    """An organization with a local number (``CALLBACK_TOKEN``) and ``count`` queued messages
    with SIDs, for status callbacks to move."""
    from messaging.models import Message, Status
    from tenants.models import User
    from tenants.services.organizations import organization_create

    owner = User.objects.create_user("bench@example.com", "bench-password-123")
    organization = organization_create(name="Bench", owner=owner)
    row = twilio_row(
        organization,
        account_sid=CALLBACK_ACCOUNT,
        auth_token=CALLBACK_TOKEN,
        phone_number=CALLBACK_SENDER,
        send_rate=1,
    )
    messages = Message.objects.bulk_create(
        Message(
            organization=organization,
            connection=row,
            to=f"+1415{2000000 + n:07d}",
            body="Our spring sale starts today. Reply STOP to opt out.",
            status=Status.QUEUED,
            sid=f"SM{n:032x}",
        )
        for n in range(count)
    )
    return organization, messages


def delivered_callback(message: Message) -> tuple[str, dict[str, str], str]:
    """The path, form and signature of Twilio's ``delivered`` callback for ``message``."""
    from twilio.request_validator import RequestValidator

    path = f"/webhooks/twilio/status/{message.public_id}"
    form = {
        "AccountSid": CALLBACK_ACCOUNT,
        "ApiVersion": "2010-04-01",
        "From": CALLBACK_SENDER,
        "MessageSid": message.sid or "",
        "MessageStatus": "delivered",
        "SmsSid": message.sid or "",
        "SmsStatus": "delivered",
        "To": message.to,
    }
    url = os.environ["PUBLIC_BASE_URL"] + path
    return path, form, RequestValidator(CALLBACK_TOKEN).compute_signature(url, form)


def twilio_row(
    organization: Organization,
    *,
    account_sid: str,
    auth_token: str,
    phone_number: str,
    send_rate: int,
) -> Connection:
    """A Twilio connection with a local number, written straight to the database (no connect
    flow: nothing is asked of Twilio)."""
    from connections.crypto import encrypt
    from connections.models import Connection, ConnectionKind, SenderType, TwilioCredentials

    row = Connection.objects.create(organization=organization, kind=ConnectionKind.TWILIO)
    TwilioCredentials.objects.create(
        connection=row,
        account_sid=account_sid,
        auth_token_encrypted=encrypt(auth_token),
        auth_token_last4=auth_token[-4:],
        phone_number=phone_number,
        sender_type=SenderType.LOCAL,
        send_rate=send_rate,
    )
    return row
