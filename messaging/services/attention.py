"""A person settles a message the sweeper could not: Twilio had several messages that could be
this one. They compare them with the Twilio Console and choose: it is this one (adopted, with
its status fetched from Twilio), it was never sent (sent again), or it should not go out at all
(failed). Each choice is an event naming who made it."""

from __future__ import annotations

from connections.selectors import twilio_credentials
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import TwilioError
from messaging.models import Message, MessageEvent, Status
from messaging.services.sweeper import (
    message_adopt,
    message_give_up,
    message_send_again,
)
from tenants.actor import Actor
from tenants.errors import AccessDenied, ApplicationError, ConflictError
from tenants.models import Role
from tenants.sources import Source

ADOPT, RESEND, CANCEL = "adopt", "resend", "cancel"
SETTLED = "This message no longer needs attention."


def attention_candidates(message: Message) -> list[str]:
    """The SIDs the sweeper found for the message, from its latest needs_attention event."""
    event = (
        MessageEvent.objects.filter(message=message, status="needs_attention")
        .order_by("-at", "-pk")
        .first()
    )
    sids = event.params.get("sids", []) if event else []
    return [str(sid) for sid in sids]


def _who(by: Actor) -> str:
    return by.user.get_full_name() if by.user is not None else str(by)


def _claim(message: Message, by: Actor) -> None:
    if not by.can(Role.MARKETER):
        raise AccessDenied("Only marketers, admins and owners decide about a message.")
    if not Message.objects.filter(
        pk=message.pk, needs_attention=True, status=Status.SUBMITTING
    ).exists():
        raise ConflictError(SETTLED)


def message_attention_resolve(
    *, message: Message, action: str, by: Actor, sid: str = ""
) -> Message:
    _claim(message, by)
    if action == ADOPT:
        _adopt(message, sid, by)
    elif action == RESEND:
        _resend(message, by)
    elif action == CANCEL:
        _cancel(message, by)
    else:
        raise ApplicationError(
            "Choose what happened to this message.", fields={"action": ["Choose one."]}
        )
    message.refresh_from_db()
    return message


def _adopt(message: Message, sid: str, by: Actor) -> None:
    if sid not in attention_candidates(message):
        raise ApplicationError(
            "Choose one of the messages Twilio has.", fields={"sid": ["Choose a message."]}
        )
    if Message.objects.filter(sid=sid).exclude(pk=message.pk).exists():
        raise ConflictError("That Twilio message already belongs to another message here.")
    credentials = twilio_credentials(message.connection)
    if credentials is None:
        raise ConflictError("Connect Twilio again to look the message up.")
    gateway = TwilioGateway(credentials.account_sid, credentials.auth_token())
    try:
        record = gateway.fetch_message(sid)
    except TwilioError as error:
        raise ApplicationError(f"Twilio could not be asked: {error.message}") from error
    if record is None:
        raise ApplicationError(
            "Twilio no longer has that message.", fields={"sid": ["Choose another."]}
        )
    if not message_adopt(message, record, source=Source.UI, by=_who(by)):
        raise ConflictError(SETTLED)


def _resend(message: Message, by: Actor) -> None:
    if not message_send_again(message, detail="a person chose to send it again", by=_who(by)):
        raise ConflictError(SETTLED)


def _cancel(message: Message, by: Actor) -> None:
    reason = "Not sent: a person chose not to send it after an unclear lookup."
    if not message_give_up(
        message, reason, source=Source.UI, detail="a person chose not to send it", by=_who(by)
    ):
        raise ConflictError(SETTLED)
